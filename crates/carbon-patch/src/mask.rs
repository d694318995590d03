//! Errors shown masked: an error's message may hold a secret (a path or a
//! name the recipe built from one), and errors reach the screen and JSON
//! too. What is a secret, and the masking itself, are
//! [`carbon_config::secrets`]'s.

use carbon_config::secrets::{mask, mask_finding, Secrets};
use carbon_config::validate::Finding;

/// `result`, its error's message masked when it holds a secret (a path or
/// a name the recipe built from one): errors reach the screen too. An error
/// holding none is passed on as it is, its causes intact. So is a failed
/// validation's list of findings, masked one by one, for JSON's
/// `"error_details"` ([`validation_findings`]).
pub fn in_error<T>(result: anyhow::Result<T>, secrets: &[String]) -> anyhow::Result<T> {
    result.map_err(|err| {
        let secrets = Secrets::new(secrets);
        let message = crate::shown::error_text(&err);
        let masked = mask(&message, &secrets);
        if masked == message {
            return err;
        }
        match validation_findings(&err).map(|findings| masked_validation(&err, findings, &secrets))
        {
            // Masking the parts must show what masking the whole would.
            Some(rebuilt) if crate::shown::error_text(&rebuilt) == masked => rebuilt,
            _ => anyhow::Error::new(crate::shown::Shown(masked)),
        }
    })
}

/// The findings of the failed validation `err` stems from, if it does.
pub fn validation_findings(err: &anyhow::Error) -> Option<&[Finding]> {
    err.chain().find_map(|cause| match cause.downcast_ref() {
        Some(carbon_config::Error::Validation(findings)) => Some(findings.as_slice()),
        _ => None,
    })
}

/// `err` in parts (file, line, column, message), for JSON: a failed
/// validation's findings, or a recipe's error with a place as one.
pub fn error_details(err: &anyhow::Error) -> Option<Vec<Finding>> {
    if let Some(findings) = validation_findings(err) {
        return Some(findings.to_vec());
    }
    err.chain()
        .find_map(|cause| cause.downcast_ref::<carbon_recipe::RecipeError>())
        .filter(|recipe| recipe.line_column().is_some())
        .map(|recipe| vec![recipe.finding()])
}

/// `err` again, each of its findings and of the contexts around them masked.
fn masked_validation(
    err: &anyhow::Error,
    findings: &[Finding],
    secrets: &Secrets,
) -> anyhow::Error {
    let findings = findings.iter().map(|f| mask_finding(f, secrets)).collect();
    let contexts: Vec<String> = err
        .chain()
        .take_while(|cause| cause.downcast_ref::<carbon_config::Error>().is_none())
        .map(|cause| mask(&cause.to_string(), secrets))
        .collect();
    let inner = anyhow::Error::new(carbon_config::Error::Validation(findings));
    contexts
        .into_iter()
        .rev()
        .fold(inner, anyhow::Error::context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_validation_keeps_its_findings_when_its_error_is_masked() {
        use carbon_config::validate::Severity;
        let finding = |message: &str| Finding {
            severity: Severity::Error,
            file: "repository/conf/user-mgt.xml".into(),
            at: None,
            message: message.to_string(),
        };
        let secret = "s3cret-name".to_string();
        let failed: anyhow::Result<()> =
            Err(anyhow::Error::new(carbon_config::Error::Validation(vec![
                finding("uses jdbc/s3cret-name"),
                finding("plain"),
            ]))
            .context("node a (/homes/s3cret-name)"));
        let err = in_error(failed, std::slice::from_ref(&secret)).unwrap_err();
        let shown = format!("{err:#}");
        assert!(!shown.contains(&secret), "{shown}");
        assert!(
            shown.starts_with("node a (/homes/********): 2 problem(s)"),
            "{shown}"
        );
        let kept = validation_findings(&err).expect("the findings are kept");
        let messages: Vec<&str> = kept.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, ["uses jdbc/********", "plain"]);
        // An error of another kind becomes its masked message.
        let other: anyhow::Result<()> = Err(anyhow::anyhow!("no home at /s3cret-name"));
        let err = in_error(other, &[secret]).unwrap_err();
        assert_eq!(format!("{err:#}"), "no home at /********");
        assert!(validation_findings(&err).is_none());
    }

    #[test]
    fn an_error_holding_a_secret_is_masked_and_any_other_kept_whole() {
        let secrets = ["t0ken".to_string()];
        let err = anyhow::anyhow!("no element matches \"/Server/t0ken\"").context("node a");
        let masked = in_error::<()>(Err(err), &secrets).unwrap_err();
        assert_eq!(
            format!("{masked:#}"),
            "node a: no element matches \"/Server/********\""
        );
        let err = anyhow::anyhow!("no such file").context("node a");
        let kept = in_error::<()>(Err(err), &secrets).unwrap_err();
        assert_eq!(kept.chain().count(), 2, "causes intact");
    }
}
