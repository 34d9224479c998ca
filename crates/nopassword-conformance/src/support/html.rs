//! Just enough HTML reading for the contract: tags and their attributes, the title, text.
//! Pages are the adapters' own templates, so a small tolerant scanner beats an HTML parser's
//! build time.

use std::collections::BTreeMap;

/// One start tag: its name and attributes (names lower-cased, values unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag name, lower case.
    pub name: String,
    /// Attributes; a bare attribute has an empty value.
    pub attrs: BTreeMap<String, String>,
}

impl Tag {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// Every start tag named `name`, in document order.
pub fn tags(html: &str, name: &str) -> Vec<Tag> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find(&open) {
        let start = from + found + open.len();
        from = start;
        // `<input` must not match `<inputs`.
        if !lower[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let Some(end) = tag_end(&html[start..]) else {
            break;
        };
        out.push(Tag {
            name: name.to_ascii_lowercase(),
            attrs: attributes(&html[start..start + end]),
        });
        from = start + end;
    }
    out
}

/// The offset of the `>` closing a tag, skipping quoted values.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn attributes(inside: &str) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    let mut chars = inside.trim_end_matches('/').chars().peekable();
    loop {
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_ascii_whitespace() && *c != '=') {
            name.push(c.to_ascii_lowercase());
        }
        if name.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
            match chars.next_if(|c| *c == '"' || *c == '\'') {
                Some(quote) => {
                    for c in chars.by_ref() {
                        if c == quote {
                            break;
                        }
                        value.push(c);
                    }
                }
                None => {
                    while let Some(c) = chars.next_if(|c| !c.is_ascii_whitespace()) {
                        value.push(c);
                    }
                }
            }
        }
        attrs.insert(name, unescape(&value));
    }
    attrs
}

/// Undoes the escaping templates apply to text and attribute values.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `<input>` named `name`.
pub fn input(html: &str, name: &str) -> Option<Tag> {
    tags(html, "input")
        .into_iter()
        .find(|t| t.attr("name") == Some(name))
}

/// The value of the `<input>` named `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    input(html, name).map(|t| t.attr("value").unwrap_or_default().to_owned())
}

/// The CSRF token field of a form page.
pub fn csrf_token(html: &str) -> Option<String> {
    input_value(html, "csrfmiddlewaretoken").filter(|v| !v.is_empty())
}

/// The first form's `action`, when it posts.
pub fn form_action(html: &str) -> Option<String> {
    let form = tags(html, "form").into_iter().next()?;
    form.attr("method")
        .is_some_and(|m| m.eq_ignore_ascii_case("post"))
        .then(|| form.attr("action").unwrap_or_default().to_owned())
}

/// The document's `<title>` text, trimmed.
pub fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + tag_end(&html[open..])? + 1;
    let end = start + lower[start..].find("</title>")?;
    Some(unescape(html[start..end].trim()))
}

/// The text inside the first `<name>...</name>` element (markup kept), if any.
pub fn element(html: &str, name: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find(&format!("<{name}"))?;
    let start = open + tag_end(&html[open..])? + 1;
    let end = start + lower[start..].find(&format!("</{name}>"))?;
    Some(html[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_and_attributes() {
        let page = r#"<title> Logging in... </title><form method="POST" action="/a/login-code/x%2By/1/">
            <input type="hidden" name='csrfmiddlewaretoken' value="t&amp;k">
            <input name=next value=/n disabled></form><noscript><button>Go</button></noscript>"#;
        assert_eq!(title(page).as_deref(), Some("Logging in..."));
        assert_eq!(form_action(page).as_deref(), Some("/a/login-code/x%2By/1/"));
        assert_eq!(csrf_token(page).as_deref(), Some("t&k"));
        assert_eq!(input_value(page, "next").as_deref(), Some("/n"));
        assert_eq!(
            input(page, "next").and_then(|t| t.attr("disabled").map(str::to_owned)),
            Some(String::new())
        );
        assert_eq!(
            element(page, "noscript").as_deref(),
            Some("<button>Go</button>")
        );
        assert_eq!(unescape("&#x27;&#39;&lt;&bogus;"), "''<&bogus;");
    }
}
