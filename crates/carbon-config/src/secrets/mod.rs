//! The one secrets policy: which names are a secret's, and masking of every
//! text shown.
//!
//! Every rule that decides whether a name is a secret's lives here, for
//! every place a name comes from:
//!
//! - in the files of a home ([`is_secret_name`]): elements, `name="…"` and
//!   `key="…"` properties, attributes, URL parameters and `key value`
//!   properties whose name ends in `password`, `passwd`, `pwd`, `pass`,
//!   `secret`, `secretKey`, `token` or `credential` (or `passwords`,
//!   `secrets`, `credentials`: not `tokens`, which names flags such as
//!   API Manager's `EncryptPersistedTokens`),
//!   in any case (`<Password>`, `keystorePass="…"`, `<clientSecret>`,
//!   `;pwd=…`), and the password in a URL's user information
//!   (`https://user:pw@host`);
//! - WSO2's own names given in a recipe ([`names_a_secret`]): a Spark key,
//!   a clustering or user store property, a datasource's configuration
//!   entry, judged by its last dotted part as in the files;
//! - the recipe's own keys ([`is_secret_key`]): any that holds `pass`,
//!   `pwd`, `secret`, `token` or `cred`, has a word `key`, or is a
//!   misspelling of `password`;
//! - environment variable names ([`is_secret_variable`]): any that holds
//!   PASS, PW, SECRET, TOKEN, CRED or KEY.
//!
//! The rules differ in reach on purpose. A name a person chose for a recipe
//! or a variable is masked on any hint (masking a value that was not secret
//! costs the reader little; showing one that was cannot be taken back). A
//! name in WSO2's files must end as a secret's: user-mgt.xml's
//! `PasswordDigest` and `PasswordJavaRegEx` name no secret, and `key`
//! names ids and aliases there (`ConsumerKey`, `KeyAlias`, `key="…"` naming
//! a property) far more often than secrets, whose names say `Password`.
//!
//! [`mask`] hides both kinds of secret in a text shown: the values the
//! recipe holds ([`Secrets`]), in every form a file may hold them, and the
//! values already on disk ([`text`]).

mod text;

use std::borrow::Cow;

/// What a masked value shows.
pub const MASK: &str = "********";

/// How the name of a secret in WSO2's files ends, in any case.
const NAME_ENDINGS: [&[u8]; 11] = [
    b"password",
    b"passwords",
    b"passwd",
    b"pwd",
    b"pass",
    b"secret",
    b"secrets",
    b"secretkey",
    b"token",
    b"credential",
    b"credentials",
];

/// Whether `name` (an element's, an attribute's, a property's, a
/// parameter's, without its prefix or with it) is the name of a secret in
/// WSO2's files: it ends as one of [`NAME_ENDINGS`], in any case.
#[inline]
pub fn is_secret_name(name: &[u8]) -> bool {
    may_be_secret_name(name)
        && NAME_ENDINGS.iter().any(|end| {
            name.len() >= end.len() && name[name.len() - end.len()..].eq_ignore_ascii_case(end)
        })
}

/// The quick look first: the last letter of every ending, which rules out
/// most names (masking asks it for every tag and every `=` of every file
/// shown).
#[inline]
pub fn may_be_secret_name(name: &[u8]) -> bool {
    matches!(
        name.last().map(u8::to_ascii_lowercase),
        Some(b'd' | b's' | b't' | b'n' | b'l' | b'y')
    )
}

/// Whether one of WSO2's own names given in a recipe (a Spark key, a
/// clustering parameter or property, a user store property, a datasource's
/// configuration entry) names a secret: its last dotted part
/// [`is_secret_name`] (`ConnectionPassword`, `spark.ssl.keyStorePassword`,
/// `spark.authenticate.secret`).
pub fn names_a_secret(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    is_secret_name(last.as_bytes())
}

/// Words that make a name a person chose a secret's wherever they stand in
/// it, in any case.
const SECRET_WORDS: [&str; 5] = ["pass", "pwd", "secret", "token", "cred"];

/// Whether a recipe key names a secret: it holds one of [`SECRET_WORDS`],
/// has a word `key` (`api_key`), or is a misspelling of `password` (an
/// unknown key is reported with its line). Dotted and quoted keys are
/// judged by their last part.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.trim();
    let last = key.rsplit('.').next().unwrap_or(key);
    let name = last
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
        || name
            .split(['_', '-'])
            .any(|word| word == "key" || word == "apikey")
        || strsim::osa_distance(&name, "password") <= 2
}

/// Whether an environment variable's name says its value is secret: it
/// holds one of [`SECRET_WORDS`], `PW` or `KEY`, in any case
/// (`DB_PASSWORD`, `svn_pwd`, `DB_PW`, `API_KEY`). Such a value is masked
/// wherever the recipe uses it, a password in a JDBC URL included; other
/// variables (hosts, ports, user names) stay readable in a plan.
pub fn is_secret_variable(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS
        .iter()
        .chain(&["pw", "key"])
        .any(|word| name.contains(word))
}

/// A node's secret values, each in every form a file may hold it in
/// (`xmlsplice::escaped_forms`), worked out once for all the texts shown.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// Longest first: a secret inside a longer one must not mask part of it
    /// and leave the rest showing. With each, whether it is masked inside
    /// words too ([`SHORT`]).
    forms: Vec<(String, bool)>,
}

/// Secrets shorter than this many characters are masked only where they
/// stand alone, not inside a longer word. A test recipe's password `p` or
/// `pw` masked everywhere turns `repository` into `re********ository`, in
/// every path shown, and the pattern of masks gives the secret away; a
/// longer secret is masked wherever it appears, since it could be glued to
/// other text (`…password=${env:DB_PASSWORD}` and a suffix) and is unlikely
/// to match inside an unrelated word.
const SHORT: usize = 6;

impl Secrets {
    /// The forms of `values` (empty ones are no secret).
    pub fn new(values: &[String]) -> Secrets {
        let mut forms: Vec<(String, bool)> = values
            .iter()
            .filter(|v| !v.is_empty())
            .flat_map(|v| {
                let anywhere = v.chars().count() >= SHORT;
                xmlsplice::escaped_forms(v)
                    .into_iter()
                    .map(move |form| (form, anywhere))
            })
            .collect();
        forms.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Secrets { forms }
    }
}

/// `text` with every secret of `secrets`, every secret element's content
/// and every secret property's and parameter's value masked. Lines stay
/// where they were, unless a secret of the recipe holds a line break.
pub fn mask(text: &str, secrets: &Secrets) -> String {
    // The recipe's secrets first, whole: masking a parameter first could
    // leave the part of a secret after a `&` or `;` in it.
    let mut out = Cow::Borrowed(text);
    for (form, anywhere) in &secrets.forms {
        // `replace` copies the whole text even when there is nothing to
        // replace, and most files hold none of a recipe's secrets.
        if !out.contains(form.as_str()) {
            continue;
        }
        out = if *anywhere {
            out.replace(form.as_str(), MASK).into()
        } else {
            text::standing_alone_masked(&out, form).into()
        };
    }
    match text::mask_on_disk(&out) {
        Cow::Borrowed(_) => out.into_owned(),
        Cow::Owned(masked) => masked,
    }
}

/// Whether `value` holds a secret by what surrounds it: a URL's
/// `user:password` (or an Oracle URL's `user/password@`), a `password=`
/// parameter, a password element in markup.
///
/// # Examples
/// ```
/// use carbon_config::secrets::holds_secret;
/// assert!(holds_secret("jdbc:mysql://admin:TopSecret@db:3306/c"));
/// assert!(holds_secret("jdbc:sqlserver://db;user=a;password=TopSecret"));
/// assert!(!holds_secret("jdbc:mysql://db:3306/c"));
/// ```
pub fn holds_secret(value: &str) -> bool {
    matches!(text::mask_on_disk(value), Cow::Owned(masked) if masked != value)
}

/// `finding` with its file and message masked.
pub fn mask_finding(
    finding: &crate::validate::Finding,
    secrets: &Secrets,
) -> crate::validate::Finding {
    crate::validate::Finding {
        file: mask(&finding.file.to_string_lossy(), secrets).into(),
        message: mask(&finding.message, secrets),
        ..finding.clone()
    }
}

#[cfg(test)]
mod tests;
