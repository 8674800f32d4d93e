//! How to revoke and rotate each provider's credential, as short markdown for SARIF rule help (shown
//! next to a code-scanning alert). The provider's own steps are rule data (`remediation` in the rule
//! file's `[api]` table); a provider without them gets the generic steps.

use crate::rules::embedded_api;

/// Markdown help for a finding of `provider`: the provider's own steps, then the steps every leak needs.
pub fn help_markdown(provider: &str, description: &str) -> String {
    let specific = embedded_api(provider)
        .and_then(|a| a.remediation.as_deref())
        .unwrap_or(GENERIC)
        .trim();
    format!(
        "**{description}** (`{provider}`) was found in the code.\n\n\
         Treat it as compromised: whoever can read this repository, or its history, can use it.\n\n\
         {specific}\n\n\
         Then remove the secret from the code, load it from a secret store or the environment instead, \
         and check the provider's access logs for use you do not recognise. Deleting the line does not \
         revoke the credential, and it stays in the git history until the history is rewritten.",
    )
}

/// The same advice as plain text (SARIF requires a `text` beside `markdown`).
pub fn help_text(provider: &str, description: &str) -> String {
    help_markdown(provider, description).replace(['*', '`'], "")
}

const GENERIC: &str = "1. Revoke (or delete) the credential in the issuing service's console or API.\n\
2. Issue a replacement and store it in a secret manager or CI secret, never in the repository.\n\
3. Deploy the replacement everywhere the old credential was used.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_providers() {
        let slack = help_markdown("slack", "Slack bot token");
        assert!(slack.contains("auth.revoke"), "{slack}");
        assert!(help_markdown("aws", "AWS access key").contains("delete-access-key"));
        assert!(help_markdown("huggingface", "t").contains("Access Tokens"));
        let other = help_markdown("acme-internal", "Acme token");
        assert!(other.contains(GENERIC), "{other}");
        assert!(!help_text("slack", "Slack bot token").contains('`'));
    }
}
