//! Command-line parsing: words separated by blanks, '...' (literal) and "..." quoting,
//! backslash escapes, `$?` (the last status), `#` comments and a trailing `&`.

use heapless::Vec;

/// As many words as a program can receive (the kernel's ARGV_MAX).
pub const MAX_WORDS: usize = 64;
pub const MAX_BYTES: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    UnterminatedQuote,
    TooLong,
    /// `&` somewhere other than at the end.
    MisplacedAmpersand,
}

impl Error {
    pub fn text(self) -> &'static str {
        match self {
            Error::UnterminatedQuote => "unterminated quote",
            Error::TooLong => "line too long",
            Error::MisplacedAmpersand => "'&' must end the command",
        }
    }
}

/// A parsed command line: its words and whether it runs in the background.
#[derive(Debug, Default)]
pub struct Command {
    buf: Vec<u8, MAX_BYTES>,
    ends: Vec<usize, MAX_WORDS>,
    pub background: bool,
}

impl Command {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn word(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        core::str::from_utf8(&self.buf[start..self.ends[i]]).unwrap_or("")
    }

    /// The words, `MAX_WORDS` at most.
    pub fn words(&self) -> Vec<&str, MAX_WORDS> {
        (0..self.len()).map(|i| self.word(i)).collect()
    }
}

fn push(buf: &mut Vec<u8, MAX_BYTES>, b: &[u8]) -> Result<(), Error> {
    buf.extend_from_slice(b).map_err(|_| Error::TooLong)
}

fn status_text(status: i32) -> Vec<u8, 12> {
    let mut out = Vec::new();
    let mut digits = [0u8; 11];
    let mut n = status.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if status < 0 {
        let _ = out.push(b'-');
    }
    let _ = out.extend_from_slice(&digits[i..]);
    out
}

/// Parse `line`; `status` is what `$?` expands to.
pub fn parse(line: &str, status: i32) -> Result<Command, Error> {
    let mut c = Command::default();
    let b = line.as_bytes();
    let mut i = 0;
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    let mut amp_at: Option<usize> = None;
    let end_word = |c: &mut Command, in_word: &mut bool| -> Result<(), Error> {
        if *in_word {
            c.ends.push(c.buf.len()).map_err(|_| Error::TooLong)?;
            *in_word = false;
        }
        Ok(())
    };
    while i < b.len() {
        let ch = b[i];
        if amp_at.is_some() && !ch.is_ascii_whitespace() {
            return Err(Error::MisplacedAmpersand);
        }
        match (quote, ch) {
            (Some(q), _) if ch == q => quote = None,
            (Some(b'"'), b'$') if b.get(i + 1) == Some(&b'?') => {
                push(&mut c.buf, &status_text(status))?;
                i += 1;
            }
            (Some(b'"'), b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\' | b'$')) => {
                push(&mut c.buf, &b[i + 1..i + 2])?;
                i += 1;
            }
            (Some(_), _) => push(&mut c.buf, &[ch])?,
            (None, b' ' | b'\t') => end_word(&mut c, &mut in_word)?,
            (None, b'#') if !in_word => break,
            (None, b'&') => {
                end_word(&mut c, &mut in_word)?;
                amp_at = Some(i);
            }
            (None, b'\'' | b'"') => {
                quote = Some(ch);
                in_word = true;
            }
            (None, b'\\') if i + 1 < b.len() => {
                push(&mut c.buf, &b[i + 1..i + 2])?;
                in_word = true;
                i += 1;
            }
            (None, b'$') if b.get(i + 1) == Some(&b'?') => {
                push(&mut c.buf, &status_text(status))?;
                in_word = true;
                i += 1;
            }
            (None, _) => {
                push(&mut c.buf, &[ch])?;
                in_word = true;
            }
        }
        i += 1;
    }
    if quote.is_some() {
        return Err(Error::UnterminatedQuote);
    }
    end_word(&mut c, &mut in_word)?;
    if amp_at.is_some() {
        if c.is_empty() {
            return Err(Error::MisplacedAmpersand);
        }
        c.background = true;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> std::vec::Vec<std::string::String> {
        parse(line, 0)
            .unwrap()
            .words()
            .iter()
            .map(|s| std::string::String::from(*s))
            .collect()
    }
    extern crate std;

    #[test]
    fn splits_on_blanks() {
        assert_eq!(
            words("  shm  write 3\t0 hello "),
            ["shm", "write", "3", "0", "hello"]
        );
        assert!(parse("   ", 0).unwrap().is_empty());
        assert!(parse("", 0).unwrap().is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            words("echo 'a  b' \"c d\" e\\ f"),
            ["echo", "a  b", "c d", "e f"]
        );
        assert_eq!(words("echo ''"), ["echo", ""]);
        assert_eq!(words("echo x'y'\"z\""), ["echo", "xyz"]);
        assert_eq!(words(r#"echo "q\"q" '\n'"#), ["echo", "q\"q", "\\n"]);
        assert_eq!(
            parse("echo 'oops", 0).unwrap_err(),
            Error::UnterminatedQuote
        );
    }

    #[test]
    fn status_expands_outside_single_quotes() {
        let c = parse("echo $? \"s=$?\" '$?' x$?y", 130).unwrap();
        assert_eq!(
            c.words().as_slice(),
            ["echo", "130", "s=130", "$?", "x130y"]
        );
        assert_eq!(parse("echo $?", -1).unwrap().word(1), "-1");
        assert_eq!(parse("echo $", 0).unwrap().word(1), "$");
    }

    #[test]
    fn background_and_comments() {
        let c = parse("shm hold 3 10 &", 0).unwrap();
        assert!(c.background);
        assert_eq!(c.words().as_slice(), ["shm", "hold", "3", "10"]);
        let c = parse("sleep 1&", 0).unwrap();
        assert!(c.background && c.len() == 2);
        assert_eq!(parse("a & b", 0).unwrap_err(), Error::MisplacedAmpersand);
        assert_eq!(parse(" & ", 0).unwrap_err(), Error::MisplacedAmpersand);
        assert!(!parse("echo '&'", 0).unwrap().background);
        assert_eq!(words("echo hi # note"), ["echo", "hi"]);
        assert_eq!(words("echo a#b"), ["echo", "a#b"]);
    }

    #[test]
    fn limits_are_errors() {
        let many = "w ".repeat(MAX_WORDS + 1);
        assert_eq!(parse(&many, 0).unwrap_err(), Error::TooLong);
        let long = "x".repeat(MAX_BYTES + 1);
        assert_eq!(parse(&long, 0).unwrap_err(), Error::TooLong);
    }
}
