//! The result table: one row per figure, its reference, the ratio and the target, printed for
//! people and written as JSON for tracking.

use serde::Serialize;

/// What a row is held to.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// Capstan ÷ reference at most this.
    RatioAtMost(f64),
    /// Capstan ÷ reference at least this.
    RatioAtLeast(f64),
    /// Capstan's figure at most this.
    AtMost(f64),
    /// Capstan's figure exactly this.
    Exactly(f64),
    /// Recorded, not judged.
    None,
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::RatioAtMost(v) => format!("ratio ≤ {v:.2}"),
            Target::RatioAtLeast(v) => format!("ratio ≥ {v:.2}"),
            Target::AtMost(v) => format!("≤ {}", number(v)),
            Target::Exactly(v) => format!("= {}", number(v)),
            Target::None => "—".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// A stable key for tracking (`list_1000`, `idle_rss`, …).
    pub key: String,
    pub name: String,
    pub unit: String,
    pub capstan: f64,
    pub reference: Option<f64>,
    /// Median of the per-round ratios when rounds were paired, else capstan ÷ reference.
    pub ratio: Option<f64>,
    pub target: Target,
    /// `None` when the row has no target.
    pub met: Option<bool>,
    /// How many measurements the medians were taken over.
    pub samples: usize,
    pub note: String,
}

impl Row {
    pub fn new(key: &str, name: &str, unit: &str, capstan: f64) -> Row {
        Row {
            key: key.to_owned(),
            name: name.to_owned(),
            unit: unit.to_owned(),
            capstan,
            reference: None,
            ratio: None,
            target: Target::None,
            met: None,
            samples: 1,
            note: String::new(),
        }
    }

    pub fn reference(mut self, reference: f64, ratio: f64) -> Row {
        self.reference = Some(reference);
        self.ratio = Some(ratio);
        self
    }

    pub fn samples(mut self, n: usize) -> Row {
        self.samples = n;
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    /// Sets the target and judges the row by it.
    pub fn target(mut self, target: Target) -> Row {
        self.target = target;
        self.met = match target {
            Target::RatioAtMost(v) => self.ratio.map(|r| r <= v),
            Target::RatioAtLeast(v) => self.ratio.map(|r| r >= v),
            Target::AtMost(v) => Some(self.capstan <= v),
            Target::Exactly(v) => Some((self.capstan - v).abs() < f64::EPSILON),
            Target::None => None,
        };
        self
    }
}

/// The median (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// A number as people read it: few digits, thousands grouped.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    let abs = v.abs();
    if abs >= 10_000.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 {
            out.insert(0, '-');
        }
        out
    } else if abs >= 100.0 {
        format!("{v:.0}")
    } else if abs >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table as text.
pub fn render(rows: &[Row]) -> String {
    let header = ["row", "Capstan", "reference", "ratio", "target", "result"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                if r.unit.is_empty() && r.capstan.fract() == 0.0 {
                    format!("{}", r.capstan)
                } else {
                    format!("{} {}", number(r.capstan), r.unit)
                },
                r.reference
                    .map(|v| format!("{} {}", number(v), r.unit))
                    .unwrap_or_else(|| "—".to_owned()),
                r.ratio
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "—".to_owned()),
                r.target.text(),
                match r.met {
                    Some(true) => "met".to_owned(),
                    Some(false) => "MISSED".to_owned(),
                    None => "—".to_owned(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(" │ ");
                if i <= 3 {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.map(str::to_owned));
    out.push_str(
        &widths
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join("─┼─"),
    );
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    let notes: Vec<String> = rows
        .iter()
        .filter(|r| !r.note.is_empty())
        .map(|r| format!("  {}: {}", r.name, r.note))
        .collect();
    if !notes.is_empty() {
        out.push_str("\nnotes:\n");
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_targets() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let r = Row::new("k", "n", "ms", 11.0)
            .reference(10.0, 1.1)
            .target(Target::RatioAtMost(1.10));
        assert_eq!(r.met, Some(true));
        let r = Row::new("k", "n", "MB", 70.0).target(Target::AtMost(64.0));
        assert_eq!(r.met, Some(false));
        let r = Row::new("k", "n", "", 1.0).target(Target::Exactly(1.0));
        assert_eq!(r.met, Some(true));
        assert_eq!(number(1234567.0), "1,234,567");
        assert!(render(&[r]).contains("met"));
    }
}
