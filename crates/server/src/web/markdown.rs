//! Markdown a department wrote (an order's rules), rendered as HTML that is
//! safe to put in a page: CommonMark with tables, then sanitised by
//! `ammonia` (no script, no event handler, no `javascript:` link; raw HTML
//! in the source is cleaned like the rest).

use pulldown_cmark::{Options, Parser, html};

/// `markdown` as sanitised HTML; empty for an empty document.
pub fn render(markdown: &str) -> String {
    if markdown.trim().is_empty() {
        return String::new();
    }
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&out)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_and_anything_active_is_removed() {
        let html = render(
            "# 规则\n\n1. **证书不存在**：只报 `certificate_not_found`\n\n\
             <script>alert(1)</script><img src=x onerror=alert(2)>\n\n\
             [链接](javascript:alert(3)) | a |\n|---|\n| b |\n",
        );
        assert!(html.contains("<h1>规则</h1>"), "{html}");
        assert!(html.contains("<strong>证书不存在</strong>"), "{html}");
        assert!(
            html.contains("<code>certificate_not_found</code>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert_eq!(render("  \n"), "");
    }
}
