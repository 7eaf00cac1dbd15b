//! ANSI colours in log lines: SGR codes become classes (16 colours, bold, dim, italic, underline)
//! or CSSOM colours (256-colour and RGB codes); every other escape is dropped. Engine text only
//! ever becomes text.

/// A colour an SGR code asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// 0–15: the terminal palette, styled by the theme.
    Palette(u8),
    Rgb(u8, u8, u8),
}

/// The text attributes in effect for a piece of a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<Colour>,
    pub bg: Option<Colour>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

impl Style {
    /// The stylesheet classes for this style (palette colours and attributes).
    pub fn classes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (fg, bg) = if self.inverse {
            (
                self.bg.or(Some(Colour::Palette(0))),
                self.fg.or(Some(Colour::Palette(7))),
            )
        } else {
            (self.fg, self.bg)
        };
        if let Some(Colour::Palette(n)) = fg {
            out.push(format!("ansi-fg{n}"));
        }
        if let Some(Colour::Palette(n)) = bg {
            out.push(format!("ansi-bg{n}"));
        }
        for (on, class) in [
            (self.bold, "ansi-b"),
            (self.dim, "ansi-d"),
            (self.italic, "ansi-i"),
            (self.underline, "ansi-u"),
        ] {
            if on {
                out.push(class.to_string());
            }
        }
        out
    }

    /// Colours outside the palette, as CSS colours for the CSSOM: (foreground, background).
    pub fn rgb(&self) -> (Option<String>, Option<String>) {
        let css = |c: Option<Colour>| match c {
            Some(Colour::Rgb(r, g, b)) => Some(format!("rgb({r} {g} {b})")),
            _ => None,
        };
        if self.inverse {
            (css(self.bg), css(self.fg))
        } else {
            (css(self.fg), css(self.bg))
        }
    }
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub style: Style,
}

/// xterm's 256-colour palette above the first 16.
fn indexed(n: u8) -> Colour {
    match n {
        0..=15 => Colour::Palette(n),
        16..=231 => {
            const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
            let i = n - 16;
            Colour::Rgb(
                LEVELS[usize::from(i / 36)],
                LEVELS[usize::from(i / 6 % 6)],
                LEVELS[usize::from(i % 6)],
            )
        }
        _ => {
            let v = 8 + (n - 232) * 10;
            Colour::Rgb(v, v, v)
        }
    }
}

/// `38;5;n` or `38;2;r;g;b` (and 48): the colour and how many parameters it used.
fn extended(params: &[u16]) -> (Option<Colour>, usize) {
    let byte = |i: usize| params.get(i).map(|v| u8::try_from(*v).unwrap_or(u8::MAX));
    match params.first() {
        Some(5) => (byte(1).map(indexed), 2),
        Some(2) => match (byte(1), byte(2), byte(3)) {
            (Some(r), Some(g), Some(b)) => (Some(Colour::Rgb(r, g, b)), 4),
            _ => (None, params.len()),
        },
        _ => (None, params.len()),
    }
}

fn apply_sgr(style: &mut Style, params: &[u16]) {
    if params.is_empty() {
        *style = Style::default();
        return;
    }
    let mut i = 0;
    while i < params.len() {
        let p = params[i];
        i += 1;
        // The arms' values are within u8 by their ranges.
        #[allow(clippy::cast_possible_truncation)]
        match p {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            7 => style.inverse = true,
            22 => {
                style.bold = false;
                style.dim = false;
            }
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.inverse = false,
            30..=37 => style.fg = Some(Colour::Palette((p - 30) as u8)),
            39 => style.fg = None,
            40..=47 => style.bg = Some(Colour::Palette((p - 40) as u8)),
            49 => style.bg = None,
            90..=97 => style.fg = Some(Colour::Palette((p - 90 + 8) as u8)),
            100..=107 => style.bg = Some(Colour::Palette((p - 100 + 8) as u8)),
            38 | 48 => {
                let (colour, used) = extended(&params[i..]);
                i += used;
                if let Some(c) = colour {
                    if p == 38 {
                        style.fg = Some(c);
                    } else {
                        style.bg = Some(c);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Splits a line into styled runs: SGR codes (`ESC[…m`) set the style, every other escape
/// sequence and control character (but tab) is dropped. The text stays text.
pub fn parse_ansi(line: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    let flush = |out: &mut Vec<Segment>, text: &mut String, style: Style| {
        if !text.is_empty() {
            out.push(Segment {
                text: std::mem::take(text),
                style,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    let mut body = String::new();
                    let mut last = None;
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            last = Some(c);
                            break;
                        }
                        body.push(c);
                    }
                    if last == Some('m') {
                        let params: Vec<u16> = body
                            .split([';', ':'])
                            .map(|p| p.parse().unwrap_or(0))
                            .collect();
                        let params = if body.is_empty() { Vec::new() } else { params };
                        flush(&mut out, &mut text, style);
                        apply_sgr(&mut style, &params);
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ESC \.
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\t' => text.push(c),
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    flush(&mut out, &mut text, style);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_one_segment() {
        let s = parse_ansi("hello <b>&amp;</b>");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "hello <b>&amp;</b>");
        assert_eq!(s[0].style, Style::default());
    }

    #[test]
    fn sgr_codes_become_classes() {
        let s = parse_ansi("\u{1b}[1;31mred\u{1b}[0m plain \u{1b}[92mgreen\u{1b}[39m");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].text, "red");
        assert_eq!(s[0].style.classes(), vec!["ansi-fg1", "ansi-b"]);
        assert_eq!(s[1].text, " plain ");
        assert!(s[1].style.classes().is_empty());
        assert_eq!(s[2].style.classes(), vec!["ansi-fg10"]);
    }

    #[test]
    fn extended_colours_and_other_escapes() {
        let s = parse_ansi("\u{1b}[38;5;196mA\u{1b}[48;2;1;2;3mB\u{1b}[2K\u{1b}]0;title\u{7}C\r");
        assert_eq!(s[0].style.rgb(), (Some("rgb(255 0 0)".into()), None));
        assert_eq!(s[1].style.rgb().1, Some("rgb(1 2 3)".into()));
        let text: String = s.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(text, "ABC");
        // A lone ESC at the end and an unfinished CSI do not panic.
        assert_eq!(parse_ansi("x\u{1b}").len(), 1);
        assert_eq!(parse_ansi("x\u{1b}[31").len(), 1);
        assert_eq!(parse_ansi("\u{1b}[38;5m").len(), 0);
    }
}
