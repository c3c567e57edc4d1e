//! `inspect`'s CI gate, as dive's CI mode has one: `--fail-under-efficiency 0.9` and
//! `--max-wasted 20MB|5%` make `inspect` fail, with one line saying why, for an image
//! that wastes more than the team allows.

use squash_engine::Inspection;

use crate::format::bytes;

/// A `--max-wasted` limit: bytes, or a share of the image's size (its layers, uncompressed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wasted {
    /// At most this many bytes.
    Bytes(u64),
    /// At most this percentage of the image's size.
    Percent(f64),
}

/// Parses `--max-wasted`: `20MB`, `512KiB`, `1048576`, `5%`. Decimal units (kB, MB, GB,
/// as the table shows sizes) and binary ones (KiB, MiB, GiB).
pub fn parse_wasted(text: &str) -> Result<Wasted, String> {
    let bad =
        || format!("--max-wasted takes a size (20MB, 512KiB, 1048576) or a share of the image (5%), not `{text}`");
    let t = text.trim();
    if let Some(p) = t.strip_suffix('%') {
        let v: f64 = p.trim().parse().map_err(|_| bad())?;
        return if (0.0..=100.0).contains(&v) { Ok(Wasted::Percent(v)) } else { Err(bad()) };
    }
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| bad())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    Ok(Wasted::Bytes((v * scale).round() as u64))
}

/// Parses `--fail-under-efficiency`: a score from 0 to 1, as dive's `lowestEfficiency`.
pub fn parse_efficiency(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("--fail-under-efficiency takes a score from 0 to 1 (0.9: at most 10% wasted), not `{text}`")),
    }
}

/// Why the facts fail the gate (one line), or None when every image passes it.
pub fn check(facts: &Inspection, min_efficiency: Option<f64>, max_wasted: Option<Wasted>) -> Option<String> {
    let several = facts.images.len() > 1;
    for img in &facts.images {
        let which = if several { format!("image {}: ", img.index) } else { String::new() };
        if let (Some(min), Some(e)) = (min_efficiency, img.efficiency) {
            if e < min {
                return Some(format!(
                    "{which}efficiency {} is under the {} asked for (--fail-under-efficiency): {} wasted",
                    percent(e),
                    percent(min),
                    bytes(img.wasted_bytes)
                ));
            }
        }
        let share = if img.total_size == 0 { 0.0 } else { 100.0 * img.wasted_bytes as f64 / img.total_size as f64 };
        match max_wasted {
            Some(Wasted::Bytes(max)) if img.wasted_bytes > max => {
                return Some(format!(
                    "{which}{} wasted, more than the {} allowed (--max-wasted)",
                    bytes(img.wasted_bytes),
                    bytes(max)
                ));
            }
            Some(Wasted::Percent(max)) if share > max => {
                return Some(format!(
                    "{which}{} wasted, {share:.1}% of the image's {}, more than the {max}% allowed (--max-wasted)",
                    bytes(img.wasted_bytes),
                    bytes(img.total_size)
                ));
            }
            _ => {}
        }
    }
    None
}

/// A score from 0 to 1 as a percentage with one decimal.
pub fn percent(score: f64) -> String {
    format!("{:.1}%", score * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_wasted_takes_sizes_in_decimal_and_binary_units_and_percentages() {
        assert_eq!(parse_wasted("1048576"), Ok(Wasted::Bytes(1_048_576)));
        assert_eq!(parse_wasted("20MB"), Ok(Wasted::Bytes(20_000_000)));
        assert_eq!(parse_wasted("1.5 GB"), Ok(Wasted::Bytes(1_500_000_000)));
        assert_eq!(parse_wasted("512KiB"), Ok(Wasted::Bytes(524_288)));
        assert_eq!(parse_wasted("2mib"), Ok(Wasted::Bytes(2 << 20)));
        assert_eq!(parse_wasted("5%"), Ok(Wasted::Percent(5.0)));
        for bad in ["", "MB", "5 parsecs", "-1", "101%", "x%"] {
            assert!(parse_wasted(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_wasted("lots").unwrap_err(),
            "--max-wasted takes a size (20MB, 512KiB, 1048576) or a share of the image (5%), not `lots`"
        );
    }

    #[test]
    fn fail_under_efficiency_takes_a_score_from_0_to_1() {
        assert_eq!(parse_efficiency("0.9"), Ok(0.9));
        assert_eq!(parse_efficiency("1"), Ok(1.0));
        assert!(parse_efficiency("90").is_err(), "a percentage is not a score");
        assert!(parse_efficiency("-0.1").is_err());
    }
}
