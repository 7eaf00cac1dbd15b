//! Text that needs help to read well in narrow cells.

use leptos::prelude::*;

/// An image reference (`registry:5000/team/app:tag`, `app@sha256:…`) that wraps only after its
/// separators — `/`, `:` and `@` — so a narrow column reads "team/ app:latest", never "te am/ap".
#[component]
pub fn ImageRef(#[prop(into)] name: String) -> impl IntoView {
    parts_after_separators(&name)
        .into_iter()
        .enumerate()
        .map(|(i, part)| view! { {(i > 0).then(|| view! { <wbr /> })}{part} })
        .collect_view()
}

/// Splits after each `/`, `:` and `@`, keeping the separator on the left part.
fn parts_after_separators(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for c in name.chars() {
        current.push(c);
        if matches!(c, '/' | ':' | '@') {
            parts.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::parts_after_separators;

    #[test]
    fn splits_after_separators_only() {
        assert_eq!(
            parts_after_separators("localhost:5000/capstan-test/busybox:latest"),
            ["localhost:", "5000/", "capstan-test/", "busybox:", "latest"]
        );
        assert_eq!(parts_after_separators("busybox"), ["busybox"]);
        assert_eq!(parts_after_separators(""), [""]);
        assert_eq!(
            parts_after_separators("a@sha256:ab"),
            ["a@", "sha256:", "ab"]
        );
    }
}
