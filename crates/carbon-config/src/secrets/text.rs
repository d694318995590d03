//! Finding the secrets in a text shown: the values of password elements
//! (live, commented out, in CDATA), of `name="…"`/`key="…"` properties and
//! their `value` attributes, of attributes and URL parameters, and of
//! `key value` properties (spark-defaults.conf).
//!
//! The texts are scanned as bytes, not parsed: they are whole files on
//! either side of a diff, but also a line an error quotes, a finding's
//! message, a file that is not XML, and the content of comments, which no
//! XML parser reads as markup. Every decision about a name is
//! [`is_secret_name`]'s; this module only finds the names and the values
//! they own.

use std::borrow::Cow;

use super::{is_secret_name, may_be_secret_name, MASK};

/// `text` with every secret element's content, secret property's and
/// secret parameter's value masked (none of the recipe's own secrets: see
/// [`super::mask`]).
pub(super) fn mask_on_disk(text: &str) -> Cow<'_, str> {
    let masked = mask_password_elements(text);
    let masked = and_then(masked, password_parameters);
    let masked = and_then(masked, url_passwords);
    let masked = and_then(masked, oracle_passwords);
    and_then(masked, password_properties)
}

/// `text` after `step`, which borrows its text back when it changes nothing
/// (most texts hold no password): no copy then.
fn and_then<'t>(text: Cow<'t, str>, step: fn(&str) -> Cow<'_, str>) -> Cow<'t, str> {
    let changed = match step(&text) {
        Cow::Borrowed(_) => None,
        Cow::Owned(changed) => Some(changed),
    };
    changed.map_or(text, Cow::Owned)
}

/// `text` with the value of every `key value` line whose key names a
/// secret masked, as spark-defaults.conf holds them
/// (`spark.ssl.keyStorePassword  s3cret`, `spark.authenticate.secret x`):
/// a dotted key whose last part [`is_secret_name`], blanks,
/// then the value, up to the end of the line. The dot keeps prose out (a
/// comment's line that starts "password of the user"); `key=value` is
/// [`password_parameters`]'s. An XML text (its first byte after blanks and
/// a byte order mark is `<`) holds no such lines and is not read line by
/// line: every file a plan shows passes through here.
pub(super) fn password_properties(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if body.get(after_blanks(body, 0)) == Some(&b'<') {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut copied = 0;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        if let Some((start, end)) = property_value(&bytes[line_start..line_end]) {
            if out.is_empty() {
                out.reserve(text.len());
            }
            out.push_str(&text[copied..line_start + start]);
            out.push_str(MASK);
            copied = line_start + end;
        }
        line_start = line_end + 1;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Where the value of `line` starts and ends, when the line is a `key
/// value` property whose key names a secret (see [`password_properties`]).
fn property_value(line: &[u8]) -> Option<(usize, usize)> {
    let key_start = after_blanks(line, 0);
    if !line.get(key_start)?.is_ascii_alphabetic() {
        return None; // markup, a comment, a number: no key
    }
    let key_end = key_start
        + line[key_start..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            .count();
    let key = &line[key_start..key_end];
    let last = &key[key.iter().rposition(|&b| b == b'.')? + 1..];
    if !is_secret_name(last) {
        return None;
    }
    let start = after_blanks(line, key_end);
    let end = trim_end_blanks(line).len();
    // Blanks between key and value, and a value that is not `=`'s or `:`'s.
    (start > key_end && start < end && !matches!(line[start], b'=' | b':')).then_some((start, end))
}

/// `text` with each `form` that stands alone (no letter or digit right
/// before or after it) masked.
pub(super) fn standing_alone_masked(text: &str, form: &str) -> String {
    let glued = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    // `match_indices` gives matches that do not overlap.
    for (at, _) in text.match_indices(form) {
        let end = at + form.len();
        if glued(text[..at].chars().next_back()) || glued(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[copied..at]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether `b` can be part of an attribute's or a parameter's name
/// (`svns:password`, `javax.net.ssl.trustStorePassword`, `key_pass`;
/// bytes of non-ASCII letters too).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
}

/// XML's white space.
fn is_blank(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The first byte at or after `at` that is not a blank.
fn after_blanks(bytes: &[u8], at: usize) -> usize {
    at + bytes[at..].iter().take_while(|b| is_blank(b)).count()
}

/// `bytes` without the blanks at its end.
fn trim_end_blanks(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(0, |i| i + 1)]
}

/// Where the quoted value that starts at `at` (its quote) begins and ends,
/// inside the quotes; `None` when no quote is there, or none closes it.
fn quoted_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let quote = *bytes.get(at).filter(|q| matches!(q, b'"' | b'\''))?;
    let len = memchr::memchr(quote, &bytes[at + 1..])?;
    Some((at + 1, at + 1 + len))
}

/// `text` with the value of every password parameter masked: a name that
/// [`is_secret_name`] followed by `=`, up to the next `;`, `&`, `<`,
/// quote or white space, as in a JDBC URL (`;password=…`,
/// `?user=u&amp;pwd=…`); or the quoted value after it, as in an attribute
/// (`keystorePass="…"`, blanks around the `=` allowed there). An empty value
/// stays empty.
pub(super) fn password_parameters(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut unclosed = 0;
    for eq in memchr::memchr_iter(b'=', bytes) {
        if eq < copied {
            continue; // inside a value masked already
        }
        // The name ends at the `=`, or before the blanks in front of it;
        // each look back stops at the `=` before, so the scan stays linear.
        let name_end = trim_end_blanks(&bytes[..eq]).len();
        if !may_be_secret_name(&bytes[..name_end]) {
            continue; // before the name's start is looked for
        }
        let name_start = bytes[..name_end]
            .iter()
            .rposition(|&b| !is_name_byte(b))
            .map_or(0, |i| i + 1);
        if !is_secret_name(&bytes[name_start..name_end]) {
            continue;
        }
        let value_at = eq + 1 + bytes[eq + 1..].iter().take_while(|b| is_blank(b)).count();
        let (start, end) = match bytes.get(value_at) {
            Some(&quote @ (b'"' | b'\'')) => match memchr::memchr(quote, &bytes[value_at + 1..]) {
                Some(len) => (value_at + 1, value_at + 1 + len),
                None => continue,
            },
            // Unquoted, a value follows the `=` at once (in prose,
            // `password = x` names no value).
            _ if value_at == eq + 1 && name_end == eq => {
                match braced_at(bytes, eq + 1, &mut unclosed) {
                    Some(end) => (eq + 1, end),
                    None => {
                        let len = bytes[eq + 1..]
                            .iter()
                            .position(|b| b";&<\"' \t\r\n".contains(b))
                            .unwrap_or(bytes.len() - eq - 1);
                        (eq + 1, eq + 1 + len)
                    }
                }
            }
            _ => continue,
        };
        if start == end {
            continue;
        }
        // Line by line: a quoted value may span lines, and a diff needs
        // every line where it was.
        copied = mask_stretch(&mut out, text, copied, start, end);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Where a braced value that starts at `at` ends (past its `}`): SQL
/// Server's URLs brace a value that holds a `;` (`password={p;ss}`), a `}`
/// in it doubled. `None` when no `{` is there, or no `}` closes it before
/// the line or the text ends. `unclosed` is where the last search that
/// found no `}` stopped: a `{` before it has none either (the runs of `}`
/// after it are the ones that search saw, each of even length), so a line
/// of many `password={` is searched once.
fn braced_at(bytes: &[u8], at: usize, unclosed: &mut usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'{') || at < *unclosed {
        return None;
    }
    let mut i = at + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'}' if bytes.get(i + 1) == Some(&b'}') => i += 2,
            b'}' => return Some(i + 1),
            b'<' | b'\n' => break,
            _ => i += 1,
        }
    }
    *unclosed = i;
    None
}

/// `text` with the password of every URL that carries one in its user
/// information masked (`https://user:pw@host/…`, `jdbc:mysql://u:pw@h/db`):
/// after `://`, a `user:` then the password, up to the `@` that ends them,
/// all before the next `/`, blank, quote or `<`.
pub(super) fn url_passwords(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    for at in memchr::memmem::find_iter(bytes, b"://") {
        let authority = at + 3;
        let len = bytes[authority..]
            .iter()
            .position(|b| b"/ \t\r\n\"'<>?#".contains(b))
            .unwrap_or(bytes.len() - authority);
        let host_part = &bytes[authority..authority + len];
        let Some(user_end) = memchr::memrchr(b'@', host_part) else {
            continue;
        };
        let Some(colon) = memchr::memchr(b':', &host_part[..user_end]) else {
            continue;
        };
        let (start, end) = (authority + colon + 1, authority + user_end);
        if start == end || start < copied {
            continue;
        }
        if out.is_empty() {
            out.reserve(text.len());
        }
        out.push_str(&text[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// `text` with the password of every Oracle JDBC URL that carries one
/// masked: `jdbc:oracle:thin:scott/tiger@host:1521:orcl`, its `oracle` in
/// lower, upper or capitalised case, any of its colons escaped as a
/// properties file may write them (`jdbc\\:oracle\\:thin\\:`), any driver
/// type (letters and digits). The password runs from the first `/` of what
/// follows to the `@` after it, before any blank, `'` or `<`; or it is
/// quoted (`"p@ss"`, `&quot;`, `&#34;`, `&#034;`, `&#x22;`, `&#x0022;`,
/// `\\"`), and then ends at its closing quote on the same line.
/// `jdbc:oracle:thin:@//host/svc` names no user.
pub(super) fn oracle_passwords(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // Most texts name no Oracle URL: found with `memmem` (`oracle`,
    // `Oracle`, `ORACLE`), no copy for them.
    let Some(first) = [&b"racle"[..], b"RACLE"]
        .iter()
        .filter_map(|word| memchr::memmem::find(bytes, word))
        .min()
        .map(|at| at.saturating_sub(1))
    else {
        return Cow::Borrowed(text);
    };
    // Matched in lower case; the same offsets in the text itself.
    let lower = bytes[first.saturating_sub(6)..].to_ascii_lowercase();
    let base = first.saturating_sub(6);
    let mut found = Vec::new();
    for at in memchr::memmem::find_iter(&lower, b"oracle") {
        let before = &lower[..at];
        if !(before.ends_with(b"jdbc:") || before.ends_with(b"jdbc\\:")) {
            continue;
        }
        let driver = match &lower[at + 6..] {
            [b':', ..] => at + 7,
            [b'\\', b':', ..] => at + 8,
            _ => continue,
        };
        if let Some((start, end)) = oracle_password(bytes, base + driver) {
            found.push((start, end));
        }
    }
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in found {
        if start < copied {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// How far past `jdbc:oracle:` a user and password are looked for: far
/// more than any holds, and a line of many such prefixes (a planted file)
/// costs each only this much.
const ORACLE_REACH: usize = 1024;

/// The password of the Oracle URL whose driver type starts at `driver`
/// (after `jdbc:oracle:`), as a byte range, when it names one.
fn oracle_password(bytes: &[u8], driver: usize) -> Option<(usize, usize)> {
    let bytes = &bytes[..bytes.len().min(driver + ORACLE_REACH)];
    let kind = bytes[driver..]
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())?;
    let mut user = driver + kind;
    // The driver type's colon, escaped or not.
    user += match &bytes[user..] {
        [b'\\', b':', ..] => 2,
        [b':', ..] => 1,
        _ => return None,
    };
    let len = bytes[user..]
        .iter()
        .position(|b| b" \t\r\n'<>".contains(b))
        .unwrap_or(bytes.len() - user);
    let url = &bytes[user..user + len];
    let slash = url.iter().position(|&b| b == b'/')?;
    if slash == 0 || url[..slash].contains(&b'@') {
        return None;
    }
    let start = user + slash + 1;
    // A quoted password may hold blanks and `>`: its line, or a tag, ends
    // it instead.
    let line = bytes[start..]
        .iter()
        .position(|b| b"\r\n<".contains(b))
        .unwrap_or(bytes.len() - start);
    for quote in [
        &b"&quot;"[..],
        b"&#34;",
        b"&#034;",
        b"&#x22;",
        b"&#x0022;",
        b"&#X22;",
        b"\\\"",
        b"\"",
    ] {
        if let Some(inside) = bytes[start..start + line].strip_prefix(quote) {
            let close = memchr::memmem::find(inside, quote)?;
            return Some((start, start + quote.len() + close + quote.len()));
        }
    }
    let rest = &bytes[start..user + len];
    let at = memchr::memchr(b'@', rest)?;
    (at > 0).then_some((start, start + at))
}

/// What a start tag (its bytes between `<` and `>`) says about a password.
#[derive(Debug, PartialEq)]
enum PasswordTag {
    /// No password here.
    None,
    /// The element holds one: its name is a password's
    /// ([`is_secret_name`], after any prefix), or its `name` or `key`
    /// attribute names one (user-mgt.xml's `<Property
    /// name="password">`, `ConnectionPassword`).
    Content,
    /// As `Content`, and its `value` attribute (these bytes of the tag)
    /// holds it: `<property key="password" value="admin" />`, as G-Reg's
    /// registry.xml ships in a commented-out task.
    Value(usize, usize),
}

fn password_tag(tag: &[u8]) -> PasswordTag {
    let name_end = tag
        .iter()
        .position(|&b| is_blank(&b) || b == b'/')
        .unwrap_or(tag.len());
    let name = &tag[..name_end];
    let local = memchr::memrchr(b':', name).map_or(name, |colon| &name[colon + 1..]);
    // Most tags hold no `name` or `key` that could name a password: a quick
    // look ([`may_be_secret_name`]) keeps the full reading of the
    // attributes for the few that may.
    let mut named = is_secret_name(local);
    let may_name = memchr::memchr_iter(b'=', &tag[name_end..]).any(|eq| {
        let eq = name_end + eq;
        let before = trim_end_blanks(&tag[name_end..eq]);
        (before.ends_with(b"name") || before.ends_with(b"key"))
            && quoted_at(tag, after_blanks(tag, eq + 1))
                .is_some_and(|(start, end)| may_be_secret_name(&referenced(&tag[start..end])))
    });
    if !named && !may_name {
        return PasswordTag::None;
    }
    let mut value = None;
    for (attribute, start, end) in attributes(tag, name_end) {
        match attribute {
            b"name" | b"key" => named |= is_secret_name(&referenced(&tag[start..end])),
            b"value" => value = Some((start, end)),
            _ => {}
        }
    }
    match (named, value) {
        (false, _) => PasswordTag::None,
        (true, Some((start, end))) if start < end => PasswordTag::Value(start, end),
        (true, _) => PasswordTag::Content,
    }
}

/// An attribute's value as a parser reads it, where it holds character or
/// entity references: WSO2 reads `name="ConnectionPass&#119;ord"` as
/// `ConnectionPassword`. A reference it cannot read stays as written.
fn referenced(value: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'&', value).is_none() {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut at = 0;
    while let Some(amp) = memchr::memchr(b'&', &value[at..]).map(|i| at + i) {
        out.extend_from_slice(&value[at..amp]);
        at = amp + 1;
        // A character reference may have any number of leading zeros
        // (`&#000119;`); an entity's name is a handful of letters.
        let digits = value[at..].starts_with(b"#");
        let span = value[at..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'#')
            .count();
        let Some(semi) =
            (value.get(at + span) == Some(&b';') && (digits || span <= 8)).then_some(span)
        else {
            out.push(b'&');
            continue;
        };
        let name = &value[at..at + semi];
        let char = match name {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32),
            [b'#', decimal @ ..] => std::str::from_utf8(decimal)
                .ok()
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32),
            _ => None,
        };
        match char {
            Some(c) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                at += semi + 1;
            }
            None => out.push(b'&'),
        }
    }
    out.extend_from_slice(&value[at..]);
    Cow::Owned(out)
}

/// The attributes of a start tag from byte `at` on: each name, and where
/// its quoted value starts and ends. Stops at anything that is not an
/// attribute.
fn attributes(tag: &[u8], mut at: usize) -> impl Iterator<Item = (&[u8], usize, usize)> {
    std::iter::from_fn(move || {
        at = after_blanks(tag, at);
        let name_len = tag[at..].iter().take_while(|&&b| is_name_byte(b)).count();
        let name = &tag[at..at + name_len];
        at = after_blanks(tag, at + name_len);
        if name.is_empty() || tag.get(at) != Some(&b'=') {
            return None;
        }
        let (start, end) = quoted_at(tag, after_blanks(tag, at + 1))?;
        at = end + 1;
        Some((name, start, end))
    })
}

/// `text` with the content of every password element masked: its text, or
/// the inside of the CDATA section that holds it (WSO2's documentation tells
/// users to wrap a password holding `&` in one, on a line of its own), line
/// by line, so that every line stays where it was ([`mask_lines`]). Inside a
/// comment too: a commented-out password element (`<!--
/// <Password>password</Password> -->`, as carbon.xml ships) is masked as a
/// live one, or an `uncomment` would show its value on the diff's removed
/// line. Only the masked stretches are copied around: most files are tags
/// and comments with no password among them.
fn mask_password_elements(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    let mut comment = LastComment::new(bytes);
    let mut cdata_close = NextFound::new(bytes, CDATA_CLOSE);
    let mut instruction_close = NextFound::new(bytes, b"?>");
    while let Some(open) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
        let rest = &bytes[open..];
        if rest.starts_with(b"<!--") {
            comment.entered(open);
            at = open + 4; // read on inside it
            continue;
        }
        // Its text is no markup, whatever it holds (in a comment, the same
        // characters open nothing).
        if rest.starts_with(CDATA_OPEN) && comment.around(open).is_none() {
            at = (cdata_close.from(open) + CDATA_CLOSE.len()).min(bytes.len());
            continue;
        }
        let Some(close) = memchr::memchr(b'>', rest).map(|i| open + i) else {
            break;
        };
        let tag = &bytes[open + 1..close];
        at = close + 1;
        if tag.first().is_some_and(|b| b"/!?".contains(b)) {
            continue;
        }
        match password_tag(tag) {
            PasswordTag::None => continue,
            PasswordTag::Value(start, end) => {
                copied = mask_stretch(&mut out, text, copied, open + 1 + start, open + 1 + end);
                continue;
            }
            PasswordTag::Content if tag.last() == Some(&b'/') => continue,
            PasswordTag::Content => {}
        }
        let in_comment = comment.around(open);
        // A "tag" whose `>` is the comment's own `-->` is prose, not a tag.
        if in_comment.is_some_and(|end| at > end) {
            continue;
        }
        let mut ends = Ends {
            comment: &mut comment.close,
            cdata: &mut cdata_close,
            instruction: &mut instruction_close,
        };
        let stretches = password_content(bytes, at, in_comment, &mut ends);
        for (start, end) in stretches {
            copied = mask_stretch(&mut out, text, copied, start, end);
            at = end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The comment the scan entered last. Where it ends is looked for only when
/// asked, at a password tag or a CDATA opening: WSO2's files are mostly
/// comments, and few of them hold a tag that asks.
struct LastComment<'a> {
    close: NextFound<'a>,
    open: Option<usize>,
}

impl<'a> LastComment<'a> {
    fn new(bytes: &'a [u8]) -> LastComment<'a> {
        LastComment {
            close: NextFound::new(bytes, b"-->"),
            open: None,
        }
    }

    fn entered(&mut self, open: usize) {
        self.open = Some(open);
    }

    /// Where the comment `at` is inside ends (its `-->`), if it is in one.
    fn around(&mut self, at: usize) -> Option<usize> {
        let end = self.close.from(self.open? + 4);
        (at < end).then_some(end)
    }
}

const CDATA_OPEN: &[u8] = b"<![CDATA[";
const CDATA_CLOSE: &[u8] = b"]]>";

/// Where the next `needle` (a comment's or a CDATA section's end) stands
/// from a point on, remembered for the points the scan asks about next. A
/// comment may hold thousands of password tags that each open a CDATA
/// section it never closes, and a processing instruction thousands of
/// `<!--` that no `-->` ends: searched afresh, each search ran to the end
/// (the square of the text's length). What was searched is one stretch,
/// `from` to `found`, with no `needle` before `found`: a point in it has
/// its answer, one before it searches only up to it, and only one past
/// `found` searches anew.
struct NextFound<'a> {
    bytes: &'a [u8],
    needle: &'static [u8],
    finder: memchr::memmem::Finder<'static>,
    from: usize,
    /// Where the `needle` found starts; the text's length when there is
    /// none.
    found: usize,
}

impl<'a> NextFound<'a> {
    fn new(bytes: &'a [u8], needle: &'static [u8]) -> NextFound<'a> {
        NextFound {
            bytes,
            needle,
            finder: memchr::memmem::Finder::new(needle),
            from: usize::MAX,
            found: 0,
        }
    }

    /// Where the first `needle` at or after `at` starts (the text's length
    /// when there is none).
    fn from(&mut self, at: usize) -> usize {
        let len = self.bytes.len();
        if self.from == usize::MAX || at > self.found {
            self.found = self.finder.find(&self.bytes[at..]).map_or(len, |i| at + i);
        } else if at < self.from {
            let before = &self.bytes[at..(self.from + self.needle.len() - 1).min(len)];
            if let Some(i) = self.finder.find(before) {
                self.found = at + i;
            }
        } else {
            return self.found;
        }
        self.from = at;
        self.found
    }
}

/// Where the value of the password element whose start tag ends at `at`
/// lies. In a comment (ending at `comment_end`): the inside of a CDATA
/// section that comes first (blanks before it allowed), else the text up to
/// the next tag, if it holds more than blanks and is followed by an end tag,
/// so that prose naming an element (`<!-- set <Password> below -->`) is left
/// as it is. In a live element: its character data up to its end tag, the
/// inside of each CDATA section among it and the text around comments and
/// processing instructions (`<Password>s3<!-- c -->cr<![CDATA[e]]>t
/// </Password>`), as a parser joins them; up to a child element, if it has
/// one (the scan reads on from that tag, each stretch of the text once: going
/// through the children here would read nested password elements again from
/// each of theirs).
fn password_content(
    bytes: &[u8],
    at: usize,
    comment_end: Option<usize>,
    ends: &mut Ends<'_, '_>,
) -> Vec<(usize, usize)> {
    let limit = comment_end.unwrap_or(bytes.len());
    let text_to =
        |from: usize| memchr::memchr(b'<', &bytes[from..limit]).map_or(limit, |i| from + i);
    if comment_end.is_some() {
        let first = after_blanks(bytes, at).min(limit);
        if bytes[first..limit].starts_with(CDATA_OPEN) {
            let start = first + CDATA_OPEN.len();
            let close = ends.cdata.from(start);
            let whole = close > start && close + CDATA_CLOSE.len() <= limit;
            return if whole {
                vec![(start, close)]
            } else {
                Vec::new()
            };
        }
        let end = text_to(at);
        let closed = bytes[end..limit].starts_with(b"</");
        let held = !bytes[at..end].iter().all(is_blank);
        return if closed && held {
            vec![(at, end)]
        } else {
            Vec::new()
        };
    }
    let mut stretches = Vec::new();
    let mut from = at;
    loop {
        let to = text_to(from);
        if !bytes[from..to].iter().all(is_blank) {
            stretches.push((from, to));
        }
        let rest = &bytes[to..];
        // What follows the text, and where the text after it starts: a
        // construct that never ends (or a tag that never closes) ends the
        // value, with nothing after it masked or shown as a value.
        let (skip_to, inside) = if rest.starts_with(b"<!--") {
            (ends.comment.from(to + 4), 3)
        } else if rest.starts_with(CDATA_OPEN) {
            let start = to + CDATA_OPEN.len();
            let close = ends.cdata.from(start);
            if close < bytes.len() && close > start {
                stretches.push((start, close));
            }
            (close, CDATA_CLOSE.len())
        } else if rest.starts_with(b"<?") {
            (ends.instruction.from(to + 2), 2)
        } else {
            // Its end tag, a child element, or no markup at all.
            return stretches;
        };
        if skip_to >= bytes.len() {
            return stretches;
        }
        from = skip_to + inside;
    }
}

/// Where the constructs a password's value may hold next end: comments,
/// CDATA sections and processing instructions, each end found once for the
/// points the scan asks about ([`NextFound`]).
struct Ends<'s, 'a> {
    comment: &'s mut NextFound<'a>,
    cdata: &'s mut NextFound<'a>,
    instruction: &'s mut NextFound<'a>,
}

/// `out` with the text from `copied` to `start` added as it is, and the
/// text from `start` to `end` masked ([`mask_lines`]); returns `end`, up to
/// which `text` is now copied. The first stretch reserves room for the whole
/// text: only texts that hold a password are copied at all.
fn mask_stretch(out: &mut String, text: &str, copied: usize, start: usize, end: usize) -> usize {
    if out.is_empty() {
        out.reserve(text.len());
    }
    out.push_str(&text[copied..start]);
    mask_lines(out, &text[start..end]);
    end
}

/// `value` onto `out` with each line's text masked and its blanks and line
/// break kept: a value that spans lines keeps them, so a diff can still show
/// the masked text line for line (`diff.rs`).
fn mask_lines(out: &mut String, value: &str) {
    for (i, line) in value.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let blank = |c: char| matches!(c, ' ' | '\t' | '\r');
        let text = line.trim_matches(blank);
        if text.is_empty() {
            out.push_str(line);
            continue;
        }
        let lead = line.len() - line.trim_start_matches(blank).len();
        out.push_str(&line[..lead]);
        out.push_str(MASK);
        out.push_str(&line[lead + text.len()..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_elements_are_masked_in_every_form() {
        let text = "<password>wso2carbon</password>\n<SvnPassword>p</SvnPassword>\n\
                    <password svns:secretAlias=\"a\">x</password>\n<Property name=\"password\">root123</Property>\n\
                    <username>admin</username>\n<Password></Password>";
        assert_eq!(
            mask_on_disk(text),
            "<password>********</password>\n<SvnPassword>********</SvnPassword>\n\
             <password svns:secretAlias=\"a\">********</password>\n<Property name=\"password\">********</Property>\n\
             <username>admin</username>\n<Password></Password>"
        );
    }

    #[test]
    fn every_kind_of_password_name_masks_its_element() {
        let text = "<StorePass>s</StorePass>\n<parameter name=\"keystorePass\">k</parameter>\n\
                    <DbPwd>d</DbPwd>\n<x:passwd>p</x:passwd>\n<Passing>v</Passing>\n\
                    <Property\n  name=\"ConnectionPassword\">c</Property>";
        assert_eq!(
            mask_on_disk(text),
            "<StorePass>********</StorePass>\n<parameter name=\"keystorePass\">********</parameter>\n\
             <DbPwd>********</DbPwd>\n<x:passwd>********</x:passwd>\n<Passing>v</Passing>\n\
             <Property\n  name=\"ConnectionPassword\">********</Property>"
        );
    }

    #[test]
    fn password_names_match_in_any_case_and_any_script() {
        let text = "<DBPASSWORD>a</DBPASSWORD>\n<Property name='ConnectionPassWord'>b</Property>\n\
                    <prüfungPassword>c</prüfungPassword>\n<é>d</é>\n<passwörd>e</passwörd>";
        assert_eq!(
            mask_on_disk(text),
            "<DBPASSWORD>********</DBPASSWORD>\n<Property name='ConnectionPassWord'>********</Property>\n\
             <prüfungPassword>********</prüfungPassword>\n<é>d</é>\n<passwörd>e</passwörd>"
        );
    }

    #[test]
    fn password_parameters_on_disk_are_masked() {
        let cases = [
            (
                "<url>jdbc:sqlserver://h:1433;user=sa;Password=Secr3t;db=x</url>",
                "<url>jdbc:sqlserver://h:1433;user=sa;Password=********;db=x</url>",
            ),
            (
                "<url>jdbc:mysql://h/db?user=u&amp;pwd=p4ss&amp;ssl=true</url>",
                "<url>jdbc:mysql://h/db?user=u&amp;pwd=********&amp;ssl=true</url>",
            ),
            (
                "<user PASSWD='x1' name=\"a\"/>",
                "<user PASSWD='********' name=\"a\"/>",
            ),
            ("password=p\u{e9}ss\u{e9}", "password=********"),
            // A name that ends as a password's is one (Tomcat's connector
            // attributes, a JVM property), blanks around an attribute's `=`.
            (
                "keystoreFile=\"a.jks\"\n   keystorePass=\"k3y\" truststorePassword='t' keyPass = \"x y\"",
                "keystoreFile=\"a.jks\"\n   keystorePass=\"********\" truststorePassword='********' keyPass = \"********\"",
            ),
            (
                "-Djavax.net.ssl.trustStorePassword=s3 userpassword=x svns:password=\"p\"",
                "-Djavax.net.ssl.trustStorePassword=******** userpassword=******** svns:password=\"********\"",
            ),
            // Not a password parameter, or nothing to hide.
            (
                "<Property name=\"password\">",
                "<Property name=\"password\">",
            ),
            ("cwd=/tmp passing=x bypassed=y", "cwd=/tmp passing=x bypassed=y"),
            ("a password = of the user", "a password = of the user"),
            (
                "password=;pwd=\"\" password=\"open",
                "password=;pwd=\"\" password=\"open",
            ),
        ];
        for (text, masked) in cases {
            assert_eq!(password_parameters(text), masked, "{text}");
        }
    }

    #[test]
    fn password_properties_on_disk_are_masked() {
        let cases = [
            (
                "spark.ssl.keyStorePassword  s3cret\r\nspark.ui.port 4040\r\n",
                "spark.ssl.keyStorePassword  ********\r\nspark.ui.port 4040\r\n",
            ),
            (
                "\tspark.ssl.keyPassword\tk3y w1th blanks \nspark.authenticate.secret x",
                "\tspark.ssl.keyPassword\t******** \nspark.authenticate.secret ********",
            ),
            // Multi-byte characters, to its last one.
            (
                "spark.ssl.trustStorePassword p\u{e4}ssw\u{f6}rd\u{20ac}\u{3000}\nnext",
                "spark.ssl.trustStorePassword ********\nnext",
            ),
            // Not a secret's property, or no value to hide: a key without a
            // dot (prose), `=` (password_parameters' own), a comment,
            // markup, a key with nothing after it.
            (
                "password of the user\njavax.net.ssl.trustStorePassword = x\n\
                 # spark.ssl.keyPassword k\n<spark.ssl.keyPassword k/>\n\
                 spark.ssl.keyPassword   \nspark.ssl.keyStore /path/ks.jks",
                "password of the user\njavax.net.ssl.trustStorePassword = x\n\
                 # spark.ssl.keyPassword k\n<spark.ssl.keyPassword k/>\n\
                 spark.ssl.keyPassword   \nspark.ssl.keyStore /path/ks.jks",
            ),
        ];
        let xml = "<Server>\nspark.ssl.keyPassword k\n</Server>";
        assert_eq!(password_properties(xml), xml);
        for (text, masked) in cases {
            assert_eq!(password_properties(text), masked, "{text}");
            assert_eq!(mask_on_disk(text), masked, "{text}");
        }
    }

    #[test]
    fn a_password_in_a_cdata_section_is_masked_on_its_own_line_too() {
        // The forms WSO2's documentation gives for a password holding `&`.
        let text = "<Password><![CDATA[xn&A4a]]></Password>\n\
                    <Password>\n    <![CDATA[xnvYh?@VHAkc?qZ%Jv855&A4a,%M8B@h]]>\n</Password>\n\
                    <Property name=\"pattern\"><![CDATA[<Password>a</Password>]]></Property>";
        assert_eq!(
            mask_on_disk(text),
            "<Password><![CDATA[********]]></Password>\n\
             <Password>\n    <![CDATA[********]]>\n</Password>\n\
             <Property name=\"pattern\"><![CDATA[<Password>a</Password>]]></Property>"
        );
    }

    /// Ends that never come are looked for once, not once for each tag
    /// that asks (each search had run to the text's end: the square of
    /// its length, seconds for a few megabytes): a comment of password tags
    /// each opening a CDATA section it never closes, and a processing
    /// instruction of `<!--` that no `-->` ends. Nothing in them is masked,
    /// and a password after them is.
    #[test]
    fn ends_that_never_come_mask_nothing_and_hide_no_password() {
        let live = "<Password><![CDATA[live]]></Password>";
        let masked_live = "<Password><![CDATA[********]]></Password>";
        for unended in [
            format!("<!-- {}-->", "<Password><![CDATA[x> ".repeat(50_000)),
            format!("<?pi {}?>", "<!-- <Password>x ".repeat(50_000)),
        ] {
            let text = format!("{unended}\n{live}");
            let masked = mask_on_disk(&text);
            let kept = format!("{unended}\n{masked_live}");
            assert!(masked == kept, "{}", &unended[..40]);
        }
    }

    /// A comment inside a live password element splits its value: every
    /// stretch around it is masked, the comment kept.
    #[test]
    fn a_password_split_by_comments_is_masked_around_them() {
        for (text, masked) in [
            (
                "<Password><!-- c -->s3cretA</Password>",
                "<Password><!-- c -->********</Password>",
            ),
            (
                "<Password>s3<!-- c -->cretI</Password>",
                "<Password>********<!-- c -->********</Password>",
            ),
            (
                "<Password><!-- a --> <!-- b -->x</Password><p>y</p>",
                "<Password><!-- a --> <!-- b -->********</Password><p>y</p>",
            ),
            (
                "<Password><!-- never closed s3cret",
                "<Password><!-- never closed s3cret",
            ),
        ] {
            assert_eq!(mask_on_disk(text), masked, "{text}");
        }
    }

    /// A parser joins a password element's character data across CDATA
    /// sections and processing instructions: each piece is masked, and
    /// nothing after the element's end tag. A child element ends the value
    /// read (a password tag among its children is read as any other).
    #[test]
    fn a_password_in_pieces_is_masked_in_every_piece() {
        for (text, masked) in [
            (
                "<Password>sec<![CDATA[retA]]></Password>",
                "<Password>********<![CDATA[********]]></Password>",
            ),
            (
                "<Password><![CDATA[secB]]>retB</Password>",
                "<Password><![CDATA[********]]>********</Password>",
            ),
            (
                "<Password>secC<?pi x?>retC</Password>",
                "<Password>********<?pi x?>********</Password>",
            ),
            (
                "<Password>x<property key=\"password\" value=\"V\"/></Password>",
                "<Password>********<property key=\"password\" value=\"********\"/></Password>",
            ),
            (
                "<Password>a < b</Password><User>admin</User>",
                "<Password>******** < b</Password><User>admin</User>",
            ),
            (
                "<Password>s<?never closed",
                "<Password>********<?never closed",
            ),
            (
                "<Password>s<![CDATA[never closed",
                "<Password>********<![CDATA[never closed",
            ),
        ] {
            assert_eq!(mask_on_disk(text), masked, "{text}");
        }
    }

    /// A name written with character or entity references is the name a
    /// parser reads.
    #[test]
    fn a_password_name_written_with_references_is_one() {
        for (text, masked) in [
            (
                "<Property name=\"ConnectionPass&#119;ord\">s3cretQ</Property>",
                "<Property name=\"ConnectionPass&#119;ord\">********</Property>",
            ),
            (
                "<property name=\"keyStorePasswor&#x64;\" value=\"s3cretV\"/>",
                "<property name=\"keyStorePasswor&#x64;\" value=\"********\"/>",
            ),
            (
                "<Property name=\"ConnectionPass&#000000000119;ord\">s3cretR</Property>",
                "<Property name=\"ConnectionPass&#000000000119;ord\">********</Property>",
            ),
            (
                "<Property name=\"&amp;&#1;&#xZZ;&bogus;Name\">shown</Property>",
                "<Property name=\"&amp;&#1;&#xZZ;&bogus;Name\">shown</Property>",
            ),
        ] {
            assert_eq!(mask_on_disk(text), masked, "{text}");
        }
    }

    /// SQL Server braces a value that holds a `;`: the braces and all
    /// between them are the value.
    #[test]
    fn a_braced_password_is_masked_whole() {
        for (text, masked) in [
            (
                "<url>jdbc:sqlserver://h;password={secE;retE};db=x</url>",
                "<url>jdbc:sqlserver://h;password=********;db=x</url>",
            ),
            (
                "<url>jdbc:sqlserver://h;password={a}}b;c};db=x</url>",
                "<url>jdbc:sqlserver://h;password=********;db=x</url>",
            ),
            // Never closed: the value ends as an unbraced one does.
            (
                "<url>jdbc:sqlserver://h;password={a;b</url>",
                "<url>jdbc:sqlserver://h;password=********;b</url>",
            ),
        ] {
            assert_eq!(mask_on_disk(text), masked, "{text}");
        }
    }

    /// A password tag cut short by its comment's end (`<!-- <Password -->`)
    /// is no tag: nothing is masked, and nothing reads past the comment.
    #[test]
    fn a_tag_cut_short_by_its_comments_end_is_prose() {
        for text in [
            "<r><!-- <Password --></r>",
            "<r><!-- <Password --> x</Password></r>",
            "<!-- <password name=\"a\"-->",
        ] {
            assert_eq!(mask_on_disk(text), text);
        }
    }

    #[test]
    fn a_password_on_lines_of_its_own_is_masked_line_by_line() {
        let text = "<Password>\r\n    admin\r\n</Password>\n<password> two\n  lines </password>";
        assert_eq!(
            mask_on_disk(text),
            "<Password>\r\n    ********\r\n</Password>\n<password> ********\n  ******** </password>"
        );
    }

    #[test]
    fn a_commented_out_password_element_is_masked_as_a_live_one() {
        let text = "<!-- <Password>password</Password> -->\n\
                    <!--<Property name=\"ConnectionPassword\">admin</Property>-->\n\
                    <!-- set <Password> below, then <b>x</b> -->\n\
                    <!-- a <![CDATA[ is no section here --><Password>live</Password>\n\
                    <!-- <Password> --> kept <x/>";
        assert_eq!(
            mask_on_disk(text),
            "<!-- <Password>********</Password> -->\n\
             <!--<Property name=\"ConnectionPassword\">********</Property>-->\n\
             <!-- set <Password> below, then <b>x</b> -->\n\
             <!-- a <![CDATA[ is no section here --><Password>********</Password>\n\
             <!-- <Password> --> kept <x/>"
        );
    }

    #[test]
    fn a_password_named_by_key_or_name_is_masked_in_its_value_attribute() {
        let text = "<property key=\"userName\" value=\"admin\" />\n\
                    <!--<property key=\"password\" value=\"admin\" />-->\n\
                    <parameter name=\"transport.mail.smtp.password\" value='p' locked=\"false\"/>\n\
                    <Property name=\"password\" value=\"\"/><property key=\"password\">c</property>\n\
                    <property key = 'DbPassword'\n      value = 'v' />";
        assert_eq!(
            mask_on_disk(text),
            "<property key=\"userName\" value=\"admin\" />\n\
             <!--<property key=\"password\" value=\"********\" />-->\n\
             <parameter name=\"transport.mail.smtp.password\" value='********' locked=\"false\"/>\n\
             <Property name=\"password\" value=\"\"/><property key=\"password\">********</property>\n\
             <property key = 'DbPassword'\n      value = '********' />"
        );
    }

    proptest::proptest! {
        /// Where the next `]]>` stands, remembered, is where a search finds
        /// it, for points asked in any order.
        #[test]
        fn the_next_close_remembered_is_the_one_a_search_finds(
            pieces in proptest::collection::vec(
                proptest::sample::select(&["]]>", "]", "]]", ">", "x", "]]]>"][..]),
                0..30,
            ),
            asked in proptest::collection::vec(0.0..=1.0f64, 1..20),
        ) {
            let text = pieces.concat();
            let bytes = text.as_bytes();
            let mut next = NextFound::new(bytes, CDATA_CLOSE);
            for share in asked {
                let at = (share * bytes.len() as f64) as usize;
                let searched = memchr::memmem::find(&bytes[at..], CDATA_CLOSE);
                let expected = searched.map_or(bytes.len(), |i| at + i);
                proptest::prop_assert_eq!(next.from(at), expected, "{:?} from {}", text, at);
            }
        }

        /// Whatever surrounds it, and in whichever form the file holds it,
        /// a password element's value never shows, and no line moves.
        #[test]
        fn a_password_elements_value_never_shows_and_no_line_moves(
            before in proptest::collection::vec(proptest::sample::select(SURROUNDINGS), 0..4),
            after in proptest::collection::vec(proptest::sample::select(SURROUNDINGS), 0..4),
            value in "[A-Za-z0-9&;%?@#!,. ]{0,16}",
            own_lines in proptest::bool::ANY,
            form in 0..3u8,
            commented in proptest::bool::ANY,
            crlf in proptest::bool::ANY,
        ) {
            let value = format!("S3cret{value}");
            let newline = if crlf { "\r\n" } else { "\n" };
            let around = if own_lines { format!("{newline}    ") } else { String::new() };
            let mut element = match form {
                0 => format!("<Password>{around}{value}{around}</Password>"),
                1 => format!("<Password>{around}<![CDATA[{value}]]>{around}</Password>"),
                _ => format!("<property {around}key=\"password\" value=\"{value}\"{around}/>"),
            };
            if commented {
                element = format!("<!-- {element} -->");
            }
            let text = [before.join(newline), element, after.join(newline)].join(newline);
            let masked = mask_on_disk(&text);
            proptest::prop_assert!(!masked.contains(&value), "{text:?}\n{masked:?}");
            proptest::prop_assert_eq!(masked.split('\n').count(), text.split('\n').count());
            proptest::prop_assert_eq!(masked.matches('\r').count(), text.matches('\r').count());
        }
    }

    proptest::proptest! {
        /// Whatever lines surround it and whatever blanks follow its key, a
        /// Spark password line's value never shows, and every other line
        /// stays as it was.
        #[test]
        fn a_key_value_password_never_shows_and_other_lines_stay(
            before in proptest::collection::vec(proptest::sample::select(PROPERTY_LINES), 0..4),
            after in proptest::collection::vec(proptest::sample::select(PROPERTY_LINES), 0..4),
            key in proptest::sample::select(&[
                "spark.ssl.keyStorePassword",
                "spark.ssl.keyPassword",
                "spark.authenticate.secret",
                "javax.net.ssl.trustStorePASS",
            ][..]),
            gap in "[ \t]{1,3}",
            value in "[A-Za-z0-9&;%?@#!,.=/ \t]{0,16}",
            crlf in proptest::bool::ANY,
        ) {
            let newline = if crlf { "\r\n" } else { "\n" };
            let line = format!("{key}{gap}S3cret{value}");
            let lines: Vec<&str> = before.iter().copied().chain([line.as_str()]).chain(after.iter().copied()).collect();
            let text = lines.join(newline);
            let masked = mask_on_disk(&text);
            proptest::prop_assert!(!masked.contains("S3cret"), "{text:?}\n{masked:?}");
            let masked_lines: Vec<&str> = masked.split(newline).collect();
            proptest::prop_assert_eq!(masked_lines.len(), lines.len());
            for (i, (was, is)) in lines.iter().zip(&masked_lines).enumerate() {
                if i == before.len() {
                    proptest::prop_assert!(is.starts_with(&format!("{key}{gap}{MASK}")), "{is:?}");
                } else {
                    proptest::prop_assert_eq!(was, is);
                }
            }
        }
    }

    /// Lines around the password line of the key-value property test:
    /// spark-defaults.conf's own kinds, none secret.
    const PROPERTY_LINES: &[&str] = &[
        "# CARBON RELATED SPARK PROPERTIES",
        "# spark.ssl.keyPassword is the key's own password",
        "carbon.spark.master.count  1",
        "spark.master.port\t7077",
        "spark.ssl.keyStore /opt/das/ks.jks",
        "",
    ];

    /// Lines around the password element of the property test: markup,
    /// comments and CDATA sections that hold nothing secret.
    const SURROUNDINGS: &[&str] = &[
        "<a>text</a>",
        "<b c=\"v\"/>",
        "<!-- a comment -->",
        "<!-- <x>commented</x> -->",
        "<!-- set <Password> below -->",
        "<p><![CDATA[<Password>no</Password>]]></p>",
        "plain text",
        "<Config>",
        "</Config>",
    ];
}
