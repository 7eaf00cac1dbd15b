//! The encoding of every server fn's answer: JSON, read with `serde_json::from_str`.
//!
//! server_fn's own `Json` reads answers with `from_slice`, while a resource's value sent along
//! with the page is read with `from_str`. serde_json's deserialisers are generic over the
//! reader, so every type a page both hydrates and refetches was compiled twice into the wasm,
//! once per reader. Reading answers as text too shares one copy; the bytes on the wire are the
//! same `application/json` as before.

use serde::{de::DeserializeOwned, Serialize};
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// JSON read as text (see the module's documentation).
pub struct TextJsonEncoding;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            <serde_json::Error as serde::de::Error>::custom("the answer is not UTF-8")
        })?;
        serde_json::from_str(text)
    }
}

/// A server fn's answer as JSON read as text: `#[server(output = crate::codec::TextJson)]`.
pub type TextJson = Post<TextJsonEncoding>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_bad_bytes_are_an_error() {
        let bytes =
            <TextJsonEncoding as Encodes<Vec<String>>>::encode(&vec!["a".into()]).expect("encodes");
        let back: Vec<String> =
            <TextJsonEncoding as Decodes<Vec<String>>>::decode(bytes).expect("decodes");
        assert_eq!(back, vec!["a".to_owned()]);
        let bad = <TextJsonEncoding as Decodes<Vec<String>>>::decode(Bytes::from_static(&[
            b'"', 0xff, b'"',
        ]));
        assert!(bad.is_err());
    }
}
