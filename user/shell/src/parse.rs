//! Command-line parsing: words separated by blanks, '...' (literal) and "..." quoting,
//! backslash escapes, `$?` (the last status), `#` comments, redirections (`< FILE`,
//! `> FILE`, `>> FILE`, `2> FILE`, `2>> FILE`) and a trailing `&`.

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
    /// A redirection with no file name after it.
    MissingRedirectTarget,
}

impl Error {
    pub fn text(self) -> &'static str {
        match self {
            Error::UnterminatedQuote => "unterminated quote",
            Error::TooLong => "line too long",
            Error::MisplacedAmpersand => "'&' must end the command",
            Error::MissingRedirectTarget => "a redirection needs a file name",
        }
    }
}

/// How a redirection opens its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redir {
    /// `< FILE`: read.
    In,
    /// `> FILE`: write, truncating.
    Out,
    /// `>> FILE`: write, appending.
    Append,
}

/// A parsed command line: its words, its redirections and whether it runs in the background.
#[derive(Debug, Default)]
pub struct Command {
    buf: Vec<u8, MAX_BYTES>,
    ends: Vec<usize, MAX_WORDS>,
    /// (descriptor, how, index of the word naming the file), in the order written.
    redirs: Vec<(u8, Redir, usize), 8>,
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

    /// The command's words (redirection targets left out), `MAX_WORDS` at most.
    pub fn words(&self) -> Vec<&str, MAX_WORDS> {
        (0..self.len())
            .filter(|&i| !self.redirs.iter().any(|r| r.2 == i))
            .map(|i| self.word(i))
            .collect()
    }

    /// The redirections: (descriptor, how, file name), in the order written.
    pub fn redirections(&self) -> impl Iterator<Item = (u8, Redir, &str)> {
        self.redirs
            .iter()
            .map(|&(fd, how, w)| (fd, how, self.word(w)))
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
    // A redirection waiting for its file name: (descriptor, how).
    let mut want: Option<(u8, Redir)> = None;
    // Whether the word being read has quoted or escaped parts (`'2'>` is not `2>`).
    let mut quoted = false;
    let end_word = |c: &mut Command,
                    in_word: &mut bool,
                    want: &mut Option<(u8, Redir)>|
     -> Result<(), Error> {
        if *in_word {
            c.ends.push(c.buf.len()).map_err(|_| Error::TooLong)?;
            *in_word = false;
            if let Some((fd, how)) = want.take() {
                c.redirs
                    .push((fd, how, c.ends.len() - 1))
                    .map_err(|_| Error::TooLong)?;
            }
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
            (None, b' ' | b'\t') => {
                end_word(&mut c, &mut in_word, &mut want)?;
                quoted = false;
            }
            (None, b'#') if !in_word => break,
            (None, b'&') => {
                end_word(&mut c, &mut in_word, &mut want)?;
                amp_at = Some(i);
            }
            (None, b'<' | b'>') => {
                // `2>`: a lone unquoted "2" right before the operator names the descriptor.
                let start = c.ends.last().copied().unwrap_or(0);
                let fd = if in_word
                    && !quoted
                    && want.is_none()
                    && &c.buf[start..] == b"2"
                    && ch == b'>'
                {
                    c.buf.truncate(start);
                    in_word = false;
                    2
                } else {
                    // The word before (`cat<a>b`: the file of the first redirection) ends here.
                    end_word(&mut c, &mut in_word, &mut want)?;
                    if want.is_some() {
                        return Err(Error::MissingRedirectTarget);
                    }
                    if ch == b'<' {
                        0
                    } else {
                        1
                    }
                };
                quoted = false;
                let how = if ch == b'<' {
                    Redir::In
                } else if b.get(i + 1) == Some(&b'>') {
                    i += 1;
                    Redir::Append
                } else {
                    Redir::Out
                };
                want = Some((fd, how));
            }
            (None, b'\'' | b'"') => {
                quote = Some(ch);
                in_word = true;
                quoted = true;
            }
            (None, b'\\') if i + 1 < b.len() => {
                push(&mut c.buf, &b[i + 1..i + 2])?;
                in_word = true;
                quoted = true;
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
    end_word(&mut c, &mut in_word, &mut want)?;
    if want.is_some() {
        return Err(Error::MissingRedirectTarget);
    }
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

    #[test]
    fn redirections_take_the_next_word_and_leave_the_rest() {
        let c = parse("echo hi >out 2> err < in >>log x", 0).unwrap();
        assert_eq!(c.words().as_slice(), ["echo", "hi", "x"]);
        let r: std::vec::Vec<_> = c.redirections().collect();
        assert_eq!(
            r,
            [
                (1, Redir::Out, "out"),
                (2, Redir::Out, "err"),
                (0, Redir::In, "in"),
                (1, Redir::Append, "log"),
            ]
        );
        // A quoted '>' is a word; "12>x" is not descriptor 12.
        let c = parse("echo '>' 12>x", 0).unwrap();
        assert_eq!(c.words().as_slice(), ["echo", ">", "12"]);
        assert_eq!(c.redirections().next(), Some((1, Redir::Out, "x")));
        assert_eq!(
            parse("echo >", 0).unwrap_err(),
            Error::MissingRedirectTarget
        );
        assert_eq!(
            parse("echo > > x", 0).unwrap_err(),
            Error::MissingRedirectTarget
        );
        // Redirections written together; a quoted 2 is an argument.
        let c = parse("cat<a>b", 0).unwrap();
        assert_eq!(c.words().as_slice(), ["cat"]);
        let r: std::vec::Vec<_> = c.redirections().collect();
        assert_eq!(r, [(0, Redir::In, "a"), (1, Redir::Out, "b")]);
        let c = parse("echo '2'>f x\\2>g", 0).unwrap();
        assert_eq!(c.words().as_slice(), ["echo", "2", "x2"]);
        let r: std::vec::Vec<_> = c.redirections().collect();
        assert_eq!(r, [(1, Redir::Out, "f"), (1, Redir::Out, "g")]);
        let c = parse("cat </dev/null &", 0).unwrap();
        assert!(c.background);
        assert_eq!(c.words().as_slice(), ["cat"]);
    }

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
