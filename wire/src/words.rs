//! Command lines as words: how the run form and the prefill write a command, an entrypoint or
//! an exec-form health check, the way a shell splits and quotes them.

/// `a "b c" 'd'` → `["a", "b c", "d"]`, as a shell splits words (quotes and backslashes).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                Some(n) => {
                    word.push('\\');
                    word.push(n);
                }
                None => return Err("ends with a lone backslash".into()),
            },
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => match chars.next() {
                Some(n) => {
                    word.push(n);
                    in_word = true;
                }
                None => return Err("ends with a lone backslash".into()),
            },
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is not closed"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The inverse of [`split_words`]: words with spaces or quotes are quoted.
pub fn join_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(split_words("sleep 600").expect("splits"), ["sleep", "600"]);
        assert_eq!(
            split_words(r#"sh -c 'echo "hi there"'"#).expect("splits"),
            ["sh", "-c", r#"echo "hi there""#]
        );
        assert_eq!(
            split_words(r#"a "b c" d\ e ''"#).expect("splits"),
            ["a", "b c", "d e", ""]
        );
        assert_eq!(split_words("  ").expect("splits"), Vec::<String>::new());
        assert!(split_words("echo 'open").is_err());
    }

    #[test]
    fn joined_words_split_back() {
        let words: Vec<String> = ["nginx", "-g", "daemon off;", "it's", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(split_words(&join_words(&words)).expect("splits"), words);
    }
}
