//! The caller's own account: their password and their API tokens. Anyone signed in may; what
//! they change is always their own. (Signing in, out and the first-run setup make or end the
//! session itself, so they stay in their doors.)

use super::{Caller, Op, Ops};
use crate::auth::{Credential, TokenInfo};
use crate::error::Result;
use crate::step_params;

pub const TOKEN_LIST: Op = Op::own_read("token.list");
pub const TOKEN_CREATE: Op = Op::own("token.create", 201);
pub const TOKEN_REVOKE: Op = Op::own("token.revoke", 204);
pub const PASSWORD: Op = Op::own("account.password", 204);

/// A password change as the caller asks for it.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// Keep the caller's API tokens (by default a change revokes them all).
    pub keep_tokens: bool,
}

impl Ops {
    pub async fn tokens(&self, c: &Caller) -> Result<Vec<TokenInfo>> {
        self.as_self(c, &TOKEN_LIST, None, step_params!(), |me| {
            self.accounts.list_tokens(me)
        })
        .await
    }

    /// A new token for the caller, made only from a signed-in session (`via`): a token cannot
    /// make tokens (403 naming `authorization`). The secret is in the answer only, never kept.
    pub async fn create_token(
        &self,
        c: &Caller,
        via: Credential,
        (name, expires_days): (&str, Option<u32>),
    ) -> Result<(TokenInfo, String)> {
        let params = step_params!("name": name.trim(), "expires_days": expires_days);
        self.as_self(c, &TOKEN_CREATE, None, params, |me| async move {
            crate::auth::require_session(via)?;
            self.accounts.create_token(me, name, expires_days).await
        })
        .await
    }

    /// Revokes one of the caller's tokens (404 for one that is not theirs).
    pub async fn revoke_token(&self, c: &Caller, id: i64) -> Result<()> {
        let object = id.to_string();
        self.as_self(c, &TOKEN_REVOKE, Some(&object), step_params!(), |me| {
            self.accounts.revoke_token(me, id)
        })
        .await
    }

    /// Changes the caller's password (the current one is checked; wrong guesses are
    /// throttled); every session ends, and the tokens unless kept. The door that carried a
    /// session starts a fresh one. Answers how many tokens were revoked.
    pub async fn change_password(&self, c: &Caller, change: &PasswordChange<'_>) -> Result<u64> {
        let params = step_params!("keep_tokens": change.keep_tokens);
        self.as_self(c, &PASSWORD, None, params, |me| {
            self.accounts
                .change_own_password(me, change.current, change.new, change.keep_tokens)
        })
        .await
    }
}
