//! What a recipe says it is for (`product`, `versions`), and whether a
//! home is that: checked against each home's `bin/version.txt` before
//! anything is planned, so a Message Broker recipe is not applied to a Data
//! Services home without a word.

use crate::{Env, Recipe, RecipeError};

/// The product and versions a node's recipe is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductGuard {
    /// The product's name, as `bin/version.txt` gives it (compared in any
    /// case).
    pub product: Option<String>,
    /// The versions: each exact, or a prefix ending in `*`.
    pub versions: Vec<String>,
}

impl ProductGuard {
    /// Why a home of `product` and `version` (from its `bin/version.txt`)
    /// is not one this recipe is for; `None` when it is.
    pub fn refusal(&self, product: Option<&str>, version: Option<&str>) -> Option<String> {
        let wanted = self.describe();
        let found = match (product, version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            (Some(p), None) => p.to_string(),
            _ => {
                return Some(format!(
                "the recipe is for {wanted}, and the home has no bin/version.txt to say what it is"
            ))
            }
        };
        let product_ok = self
            .product
            .as_deref()
            .is_none_or(|p| product.is_some_and(|found| found.eq_ignore_ascii_case(p)));
        let version_ok = self.versions.is_empty()
            || version.is_some_and(|v| self.versions.iter().any(|want| version_matches(want, v)));
        (!(product_ok && version_ok)).then(|| {
            format!("the recipe is for {wanted}, and the home is {found} (bin/version.txt)")
        })
    }

    /// What the recipe is for, in words: `WSO2 API Manager 2.1.0 or 2.6.*`.
    fn describe(&self) -> String {
        let versions = match self.versions.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        match (&self.product, versions.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{p} {versions}"),
            (None, _) => format!("version {versions}"),
        }
    }
}

/// Whether `version` is `want`, or starts with `want` less its `*`.
fn version_matches(want: &str, version: &str) -> bool {
    match want.strip_suffix('*') {
        Some(prefix) => version.starts_with(prefix),
        None => version == want,
    }
}

impl Recipe {
    /// What node `name`'s recipe is for (its `product` and `versions`,
    /// expanded); `None` when it says neither.
    ///
    /// # Errors
    /// An unknown node; a value that does not expand; a `versions` entry
    /// that is empty or holds a `*` other than at its end.
    pub fn product_guard(
        &self,
        name: &str,
        env: &dyn Env,
    ) -> Result<Option<ProductGuard>, RecipeError> {
        self.check_node(name)?;
        let settings = self.settings_of(name);
        if settings.product.is_none() && settings.versions.is_none() {
            return Ok(None);
        }
        let product = match &settings.product {
            Some(text) => Some(self.expand(text, env)?.trim().to_string()),
            None => None,
        };
        let mut versions = Vec::new();
        if let Some(text) = &settings.versions {
            for want in self.expand(text, env)?.split(',').map(str::trim) {
                let stars = want.matches('*').count();
                if want.is_empty() || stars > 1 || (stars == 1 && !want.ends_with('*')) {
                    return Err(self.error(
                        text.span(),
                        format!(
                            "versions: {want:?} is not a version; give versions as `2.1.0`, \
                             `2.*` or `2.1.0, 2.6.0`"
                        ),
                    ));
                }
                versions.push(want.to_string());
            }
        }
        Ok(Some(ProductGuard { product, versions }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(product: Option<&str>, versions: &[&str]) -> ProductGuard {
        ProductGuard {
            product: product.map(String::from),
            versions: versions.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn a_home_is_admitted_by_product_in_any_case_and_by_version_or_prefix() {
        let apim = guard(Some("WSO2 API Manager"), &["2.1.0", "2.6.*"]);
        assert_eq!(apim.refusal(Some("wso2 api manager"), Some("2.1.0")), None);
        assert_eq!(apim.refusal(Some("WSO2 API Manager"), Some("2.6.0")), None);
        assert_eq!(
            apim.refusal(Some("WSO2 API Manager"), Some("3.0.0"))
                .unwrap(),
            "the recipe is for WSO2 API Manager 2.1.0 or 2.6.*, and the home is WSO2 API Manager \
             3.0.0 (bin/version.txt)"
        );
        assert_eq!(
            apim.refusal(Some("WSO2 Message Broker"), Some("2.1.0"))
                .unwrap(),
            "the recipe is for WSO2 API Manager 2.1.0 or 2.6.*, and the home is WSO2 Message \
             Broker 2.1.0 (bin/version.txt)"
        );
        assert!(apim
            .refusal(None, None)
            .unwrap()
            .contains("has no bin/version.txt"));
        assert_eq!(
            guard(None, &["4.4.0"]).refusal(Some("Any"), Some("4.4.0")),
            None
        );
    }
}
