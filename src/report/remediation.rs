//! How to revoke and rotate each provider's credential, as short markdown for SARIF rule help (shown
//! next to a code-scanning alert). Facts come from the providers' documentation (shared/PROVIDERS.md);
//! a provider without an entry gets the generic steps.

/// Markdown help for a finding of `provider`: the provider's own steps, then the steps every leak needs.
pub fn help_markdown(provider: &str, description: &str) -> String {
    let specific = provider_steps(provider).unwrap_or(GENERIC);
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

fn provider_steps(provider: &str) -> Option<&'static str> {
    let p: String = provider
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    Some(match p.as_str() {
        "slack" => {
            "1. Revoke the token: `POST https://slack.com/api/auth.revoke` with the token as Bearer \
             (works for user, bot and expiring tokens), or reinstall the app / regenerate it in the app's \
             settings. Webhook URLs cannot revoke themselves: remove the webhook in the app settings.\n\
             2. Issue a new token from the app's *OAuth & Permissions* page. Apps with token rotation \
             exchange the refresh token (`oauth.v2.access`, `grant_type=refresh_token`) for a new pair.\n\
             3. Store the new token in a secret manager and redeploy."
        }
        "github" => {
            "1. Revoke it: delete the token under *Settings → Developer settings → Personal access tokens*, \
             or anyone can revoke an exposed token with `POST https://api.github.com/credentials/revoke`. \
             App installation tokens (`ghs_`) revoke themselves with `DELETE /installation/token`.\n\
             2. Create a replacement with the least scopes and an expiry date.\n\
             3. Store it as an Actions or Dependabot secret, or in a secret manager."
        }
        "gitlab" => {
            "1. Revoke it: `DELETE /api/v4/personal_access_tokens/self` with the token, or in *User \
             settings → Access tokens*.\n\
             2. Or rotate it in one call: `POST /api/v4/personal_access_tokens/self/rotate` returns a new \
             token and revokes the old one.\n\
             3. Store the new token as a masked CI/CD variable or in a secret manager."
        }
        "aws" | "amazon" | "amazonwebservices" => {
            "1. Deactivate the access key (`aws iam update-access-key --status Inactive`), then delete it \
             (`aws iam delete-access-key`). Temporary `ASIA` credentials cannot be deleted: revoke the \
             role's active sessions.\n\
             2. Create a replacement (`aws iam create-access-key`), or better, move to roles and \
             short-lived credentials.\n\
             3. Review CloudTrail for calls made with the leaked key; AWS may have attached a quarantine \
             policy to the user."
        }
        "google" | "gcp" | "googlecloud" => {
            "1. OAuth tokens: revoke with `POST https://oauth2.googleapis.com/revoke` (`token=...`). API \
             keys: delete or regenerate the key under *APIs & Services → Credentials*.\n\
             2. Create a replacement key restricted to the APIs and referrers or IPs that need it.\n\
             3. Store it in Secret Manager or a CI secret."
        }
        "stripe" => {
            "1. Roll the key in the Dashboard (*Developers → API keys → Roll key*), with an immediate \
             expiry for the old one.\n\
             2. Use restricted keys (`rk_`) with the least permissions for services.\n\
             3. Store the new key in a secret manager."
        }
        "openai" => {
            "1. Delete the key on the API keys page of the OpenAI platform (an admin key can delete \
             project keys through the admin API).\n\
             2. Create a new project-scoped key.\n\
             3. Store it in a secret manager and check usage for unexpected spend."
        }
        "anthropic" => {
            "1. Disable or delete the key in the Anthropic Console (an admin key can set it `inactive` \
             through the admin API).\n\
             2. Create a new key in the right workspace.\n\
             3. Store it in a secret manager and check usage for unexpected spend."
        }
        "npm" => {
            "1. Revoke it: `npm token revoke <id>` or in the npm website's *Access Tokens* page.\n\
             2. Create a granular token limited to the packages and with an expiry.\n\
             3. Check recent publishes of your packages."
        }
        "pypi" => {
            "1. Delete the API token in PyPI's *Account settings → API tokens*.\n\
             2. Prefer trusted publishing; otherwise create a project-scoped token.\n\
             3. Check the release history of your projects."
        }
        "discord" => {
            "1. Webhooks: delete it (`DELETE` on the webhook URL). Bot tokens: *Reset Token* in the \
             Developer Portal.\n\
             2. Put the new token in a secret manager and redeploy the bot."
        }
        "twilio" => {
            "1. Auth token: create a secondary token and promote it (the old primary stops working). API \
             keys: delete the key in the Console.\n\
             2. Store the new credential in a secret manager."
        }
        "sendgrid" | "twiliosendgrid" => {
            "1. Delete the API key (*Settings → API Keys*, or `DELETE /v3/api_keys/{id}`).\n\
             2. Create a new key with only the scopes needed and store it in a secret manager."
        }
        "mailgun" => {
            "1. Delete or reset the key in the Mailgun control panel (a reset primary key can stay valid \
             for a while, so delete it where possible).\n\
             2. Create a new key and store it in a secret manager."
        }
        "huggingface" | "hf" => {
            "1. Invalidate the token in *Settings → Access Tokens* on the Hub.\n\
             2. Create a fine-grained token with the least permissions and store it in a secret manager."
        }
        "digitalocean" => {
            "1. Delete the token in the control panel under *API → Tokens*.\n\
             2. Create a scoped replacement with an expiry and store it in a secret manager."
        }
        "heroku" => {
            "1. Revoke the authorization (`heroku authorizations:revoke`) or regenerate the API key in \
             account settings.\n\
             2. Store the replacement in a secret manager."
        }
        "shopify" => {
            "1. Rotate the app's access token or uninstall and reinstall the custom app from the store \
             admin.\n\
             2. Store the new token in a secret manager."
        }
        "datadog" => {
            "1. Revoke the key under *Organization Settings → API Keys* (or *Application Keys*).\n\
             2. Create a replacement and store it in a secret manager."
        }
        "telegram" => {
            "1. Send `/revoke` to @BotFather for the bot: the old token stops working and a new one is \
             issued.\n\
             2. Store the new token in a secret manager."
        }
        "okta" => {
            "1. Revoke the API token (*Security → API → Tokens*, or `DELETE /api/v1/api-tokens/current` \
             with the token).\n\
             2. Prefer OAuth service apps over SSWS tokens; store any replacement in a secret manager."
        }
        "atlassian" | "jira" | "confluence" => {
            "1. Revoke the API token at *id.atlassian.com → Security → API tokens*.\n\
             2. Create a replacement with an expiry and store it in a secret manager."
        }
        "docker" | "dockerhub" => {
            "1. Delete the access token in Docker Hub's *Account settings → Personal access tokens*.\n\
             2. Create a read-only or scoped token where possible and store it in a secret manager."
        }
        "linear" => {
            "1. Revoke the API key in Linear's *Settings → API*.\n\
             2. Create a replacement and store it in a secret manager."
        }
        "postman" => {
            "1. Delete the API key in Postman's *Settings → API keys*.\n\
             2. Create a replacement and store it in a secret manager."
        }
        "doppler" => {
            "1. Revoke the token (`POST https://api.doppler.com/v3/auth/revoke`, or in the dashboard).\n\
             2. Create a replacement with the narrowest access and store it outside the repository."
        }
        "vault" | "hashicorp" | "hashicorpvault" => {
            "1. Revoke the token: `vault token revoke -self` with it (child tokens are revoked too).\n\
             2. Issue a new token with short TTLs through your auth method instead of static tokens."
        }
        "1password" | "onepassword" => {
            "1. Revoke the service account token in the 1Password admin console.\n\
             2. Create a new token with access to only the vaults it needs and store it in a CI secret."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_providers() {
        let slack = help_markdown("slack", "Slack bot token");
        assert!(slack.contains("auth.revoke"), "{slack}");
        assert!(help_markdown("AWS", "AWS access key").contains("delete-access-key"));
        assert!(help_markdown("Hugging-Face", "t").contains("Access Tokens"));
        let other = help_markdown("acme-internal", "Acme token");
        assert!(other.contains(GENERIC), "{other}");
        assert!(!help_text("slack", "Slack bot token").contains('`'));
    }
}
