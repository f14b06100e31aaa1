//! Small helpers shared by the utilities: number parsing (decimal, 0x-hex, 0-octal, size
//! suffixes), calendar time, and errno reporting in the `prog: what: ENAME (text)` style.

use abi::Errno;
use core::fmt::Write;

/// Decimal or 0x-hex, as i64 (keys may be written either way, and negative).
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s),
    };
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => t.parse::<i64>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// A size in bytes: decimal with an optional K, M or G suffix (powers of 1024; "K", "KB" and
/// "KiB" alike), or 0x-hex.
pub fn parse_size(s: &str) -> Option<usize> {
    if s.starts_with("0x") || s.starts_with("0X") {
        return usize::try_from(parse_int(s)?).ok();
    }
    let n = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let v: usize = s[..n].parse().ok()?;
    let mult = match s[n..].to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    v.checked_mul(mult)
}

/// A byte as the text tools show it: printable ASCII as itself, anything else as '.'.
pub fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        b as char
    } else {
        '.'
    }
}

/// An octal permission mode ("600", "0640").
pub fn parse_mode(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 8).ok().filter(|&m| m <= 0o777)
}

/// `Mon Nov 23 04:30:00 2026` (UTC) for seconds since the epoch.
pub fn ctime(t: i64) -> heapless::String<32> {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut out = heapless::String::new();
    let _ = write!(
        out,
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WD[days.rem_euclid(7) as usize],
        MON[(m - 1) as usize],
        d,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        y
    );
    out
}

/// Print `prog: what: ENAME (text)` and return the exit status for a failure (1).
pub fn fail(prog: &str, what: core::fmt::Arguments, e: Errno) -> i32 {
    crate::println!("{}: {}: {} ({})", prog, what, e.name(), e.text());
    1
}
