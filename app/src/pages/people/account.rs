//! The signed-in person's own account: password and API tokens.

use leptos::prelude::*;

use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::{NewTokenView, TokenView};

#[server(output = crate::codec::TextJson)]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
    // The "keep my API tokens" box: sent (as "on") only when ticked.
    keep_tokens: Option<String>,
) -> Result<(), AppError> {
    if new != confirm {
        return Err(AppError::Invalid {
            field: "confirm".into(),
            message: "the two new passwords differ".into(),
        }
        .respond());
    }
    let c = crate::ssr::caller()?;
    let change = backend::ops::account::PasswordChange {
        current: &current,
        new: &new,
        keep_tokens: keep_tokens.is_some(),
    };
    crate::ssr::ops()?.change_password(&c, &change).await?;
    // Every session ended with the old password; this one carries on with a fresh id.
    crate::ssr::sign_in(&crate::ssr::accounts()?, c.who.user_id).await
}

#[server(output = crate::codec::TextJson)]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .tokens(&c)
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect())
}

#[server(output = crate::codec::TextJson)]
pub async fn create_token(name: String, expires_days: String) -> Result<NewTokenView, AppError> {
    let c = crate::ssr::caller()?;
    let via = crate::ssr::identity().map_or(backend::auth::Credential::Session, |i| i.via);
    let days = match expires_days.trim() {
        "" | "never" => None,
        d => Some(d.parse::<u32>().map_err(|_| {
            AppError::Invalid {
                field: "expires_days".into(),
                message: "choose an expiry".into(),
            }
            .respond()
        })?),
    };
    let (info, token) = crate::ssr::ops()?
        .create_token(&c, via, (&name, days))
        .await?;
    Ok(NewTokenView {
        id: info.id,
        name: info.name,
        token,
        expires_at: info.expires_at,
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.revoke_token(&c, id).await?)
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <PageHeader title="Your account" />
        <p class="page-summary">"Your password and the API tokens your scripts use."</p>
        <div class="panels">
            <PasswordPanel />
            <TokensPanel />
        </div>
    }
}

#[component]
fn PasswordPanel() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let result = move || {
        match action.value().get() {
        Some(Ok(())) => Some(view! { <p class="form-ok" role="status">"Password changed. Your other sessions have ended, and your API tokens unless you kept them."</p> }.into_any()),
        Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    view! {
        <section class="panel" aria-labelledby="pw-title">
            <h2 id="pw-title">"Password"</h2>
            <ActionForm action>
                <label class="field">
                    <span>"Current password"</span>
                    <input name="current" type="password" autocomplete="current-password" required />
                </label>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" minlength="12"
                        required aria-describedby="new-password-hint" />
                    <small id="new-password-hint" class="muted">"At least 12 characters. Your other sessions will end."</small>
                </div>
                <label class="field">
                    <span>"New password again"</span>
                    <input name="confirm" type="password" autocomplete="new-password" minlength="12" required />
                </label>
                <label class="check">
                    <input type="checkbox" name="keep_tokens" value="on" />
                    <span>"Keep my API tokens (without this, they are all revoked)"</span>
                </label>
                {result}
                <button type="submit" class="button button-primary">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TokensPanel() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let created = move || {
        match create.value().get() {
        Some(Ok(t)) => Some(view! {
            <div class="secret" role="status">
                <strong>{format!("Token “{}” created.", t.name)}</strong>
                " Copy it now — it will not be shown again."
                <input class="mono secret-value" readonly value=t.token.clone() aria-label="New API token" data-testid="new-token" />
                <span class="muted small">"Use it as "<code>"Authorization: Bearer …"</code></span>
            </div>
        }
        .into_any()),
        Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    view! {
        <section class="panel" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <ActionForm action=create attr:class="inline-form">
                <label class="field">
                    <span>"Name"</span>
                    <input name="name" placeholder="ci-deploy" required maxlength="100" />
                </label>
                <label class="field">
                    <span>"Expires"</span>
                    <select name="expires_days">
                        <option value="30">"in 30 days"</option>
                        <option value="7">"in 7 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="never">"never"</option>
                    </select>
                </label>
                <button type="submit" class="button button-primary">"Create token"</button>
            </ActionForm>
            {created}
            <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted empty-inline">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label="API tokens">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|t| {
                            let name = t.name.clone();
                            view! {
                                <tr data-token=t.name.clone()>
                                    <td data-label="Name" class="cell-primary strong">{t.name.clone()}</td>
                                    <td data-label="Created">{format::datetime(t.created_at)}</td>
                                    <td data-label="Last used">{t.last_used_at.map(format::datetime).unwrap_or_else(|| "never".into())}</td>
                                    <td data-label="Expires">{t.expires_at.map(format::datetime).unwrap_or_else(|| "never".into())}</td>
                                    <td class="actions">
                                        <Confirm
                                            label="Revoke"
                                            question=format!("Revoke token {name}?")
                                            on_yes=move || { revoke.dispatch(RevokeToken { id: t.id }); }
                                        />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
