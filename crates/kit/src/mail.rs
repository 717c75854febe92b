//! Writing a mail: a [`Letter`] of paragraphs, a table of lines and a link, made
//! into the plain-text and HTML parts of a [`MailData`], both with the shop's name.
//! Every service that writes mails (users' links, notifications' order mails) writes
//! them so, and whatever they put in is escaped in the HTML part.

use crate::config;
use crate::contracts::MailData;
use crate::http::error::ApiResult;

/// The shop as its mails name it: its name (`shop_name`), and the storefront's
/// address the links in them start with (`public_url`).
pub struct Shop {
    pub name: String,
    pub public_url: String,
}

impl Shop {
    /// From the component's variables.
    pub async fn load() -> ApiResult<Shop> {
        Ok(Shop {
            name: config::var("shop_name").await?,
            public_url: config::var("public_url")
                .await?
                .trim()
                .trim_end_matches('/')
                .to_string(),
        })
    }
}

/// One part of a letter's body, in order.
enum Block {
    Paragraph(String),
    /// A call to action: its label, and the URL it opens.
    Link(String, String),
    /// A table of rows: a description and an amount each; the last one is the total.
    Lines(Vec<(String, String)>),
}

/// A mail being written.
pub struct Letter {
    shop: String,
    subject: String,
    blocks: Vec<Block>,
}

impl Letter {
    /// A letter from `shop` (its name) about `subject`.
    pub fn new(shop: &str, subject: impl Into<String>) -> Letter {
        Letter {
            shop: shop.to_string(),
            subject: subject.into(),
            blocks: Vec::new(),
        }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Letter {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    pub fn link(mut self, label: impl Into<String>, url: impl Into<String>) -> Letter {
        self.blocks.push(Block::Link(label.into(), url.into()));
        self
    }

    /// Rows of a description and an amount (an order's lines, then its total).
    pub fn lines(mut self, rows: Vec<(String, String)>) -> Letter {
        self.blocks.push(Block::Lines(rows));
        self
    }

    /// The mail to `to`: its subject carries the shop's name, and both parts say
    /// the same.
    pub fn to(self, to: &str) -> MailData {
        let subject = format!("{}: {}", self.shop, self.subject);
        let mut text = String::new();
        let mut html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><h1>{}</h1>",
            escape(&self.shop)
        );
        for block in &self.blocks {
            match block {
                Block::Paragraph(paragraph) => {
                    text.push_str(&format!("{paragraph}\n\n"));
                    html.push_str(&format!("<p>{}</p>", escape(paragraph)));
                }
                Block::Link(label, url) => {
                    text.push_str(&format!("{label}: {url}\n\n"));
                    html.push_str(&format!(
                        "<p><a href=\"{}\">{}</a></p>",
                        escape(url),
                        escape(label)
                    ));
                }
                Block::Lines(rows) => {
                    html.push_str("<table>");
                    for (what, amount) in rows {
                        text.push_str(&format!("  {what}  {amount}\n"));
                        html.push_str(&format!(
                            "<tr><td>{}</td><td style=\"text-align:right\">{}</td></tr>",
                            escape(what),
                            escape(amount)
                        ));
                    }
                    text.push('\n');
                    html.push_str("</table>");
                }
            }
        }
        text.push_str(&format!("-- {}\n", self.shop));
        html.push_str(&format!(
            "<p>&mdash; {}</p></body></html>",
            escape(&self.shop)
        ));
        MailData {
            to: to.to_string(),
            subject,
            text,
            html,
        }
    }
}

/// An amount in minor units, written with as many decimals as the currency has.
pub fn money(minor: i64, currency: &str) -> String {
    let decimals = minor_unit_digits(currency);
    if decimals == 0 {
        return format!("{minor} {currency}");
    }
    let scale = 10_i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, part) = (
        minor.unsigned_abs() / scale as u64,
        minor.unsigned_abs() % scale as u64,
    );
    format!(
        "{sign}{whole}.{part:0width$} {currency}",
        width = decimals as usize
    )
}

/// ISO 4217 minor-unit digits: 2 for most currencies.
fn minor_unit_digits(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if NONE.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}

/// Text made safe inside HTML, in an element or a quoted attribute.
pub fn escape(raw: &str) -> String {
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_has_both_parts_with_the_shop_name_and_escapes_the_html() {
        let mail = Letter::new("spinshop", "Order #4 is paid")
            .paragraph("Thanks, <b>Bob</b> & co.")
            .lines(vec![("Mug x 2".into(), money(1998, "EUR"))])
            .link("See your order", "http://shop/#/orders/4?a=1&b=2")
            .to("bob@example.com");
        assert_eq!(mail.to, "bob@example.com");
        assert_eq!(mail.subject, "spinshop: Order #4 is paid");
        assert!(mail.text.contains("Thanks, <b>Bob</b> & co."));
        assert!(mail.text.contains("Mug x 2  19.98 EUR"));
        assert!(
            mail.text
                .contains("See your order: http://shop/#/orders/4?a=1&b=2")
        );
        assert!(
            mail.html
                .contains("Thanks, &lt;b&gt;Bob&lt;/b&gt; &amp; co.")
        );
        assert!(
            mail.html
                .contains("href=\"http://shop/#/orders/4?a=1&amp;b=2\"")
        );
        assert!(mail.html.contains("<h1>spinshop</h1>"));
    }
}
