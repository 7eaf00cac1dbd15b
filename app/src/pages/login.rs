//! Signing in and out, and the first-run setup.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;

#[server(output = crate::codec::TextJson)]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let accounts = crate::ssr::accounts()?;
    let user = accounts
        .login(&username, &password, crate::ssr::client_ip())
        .await?;
    crate::ssr::sign_in(&accounts, user.id).await?;
    tracing::info!(user = %user.username, "signed in");
    leptos_axum::redirect(&crate::safe_next::sanitize(next.as_deref()));
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn setup(
    setup_token: String,
    username: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    if password != confirm {
        return Err(AppError::Invalid {
            field: "confirm".into(),
            message: "the two passwords differ".into(),
        }
        .respond());
    }
    let accounts = crate::ssr::accounts()?;
    let data_dir = crate::ssr::data_dir()?;
    let user = accounts
        .complete_setup(
            &data_dir,
            &setup_token,
            &username,
            &password,
            crate::ssr::client_ip(),
        )
        .await?;
    tracing::info!(user = %user.username, "first admin created; setup is closed");
    crate::ssr::sign_in(&accounts, user.id).await?;
    leptos_axum::redirect("/hosts");
    Ok(())
}

/// The page around the sign-in and setup cards: no navigation, just the brand.
#[component]
fn Door(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="door">
            <div class="door-card">
                <div class="brand door-brand">
                    <span class="brand-mark" aria-hidden="true">"⎈"</span>
                    "Capstan"
                </div>
                {children()}
            </div>
        </div>
    }
}

fn error_text<T>(value: Option<Result<T, AppError>>) -> Option<String> {
    match value {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || error_text(action.value().get());
    view! {
        <Door title="Sign in">
            <h1>"Sign in"</h1>
            <ActionForm action>
                <input type="hidden" name="next" prop:value=next />
                <label class="field">
                    <span>"Username"</span>
                    <input name="username" autocomplete="username" required autofocus />
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input name="password" type="password" autocomplete="current-password" required />
                </label>
                <p class="form-error" role="alert" aria-live="polite">{error}</p>
                <button type="submit" class="button button-primary button-wide" prop:disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </Door>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<Setup>::new();
    let error = move || error_text(action.value().get());
    view! {
        <Door title="Set up Capstan">
            <h1>"Set up Capstan"</h1>
            <p class="muted">
                "Create the first admin. The setup token is in the server's log and in the file "
                <code>"setup-token"</code>
                " in its data directory; it works once."
            </p>
            <ActionForm action>
                <label class="field">
                    <span>"Setup token"</span>
                    <input name="setup_token" autocomplete="off" spellcheck="false" class="mono" required autofocus />
                </label>
                <label class="field">
                    <span>"Admin username"</span>
                    <input name="username" autocomplete="username" required />
                </label>
                <div class="field">
                    <label for="setup-password">"Password"</label>
                    <input id="setup-password" name="password" type="password" autocomplete="new-password" minlength="12"
                        required aria-describedby="setup-password-hint" />
                    <small id="setup-password-hint" class="muted">"At least 12 characters."</small>
                </div>
                <label class="field">
                    <span>"Password again"</span>
                    <input name="confirm" type="password" autocomplete="new-password" minlength="12" required />
                </label>
                <p class="form-error" role="alert" aria-live="polite">{error}</p>
                <button type="submit" class="button button-primary button-wide" prop:disabled=move || action.pending().get()>
                    "Create admin and sign in"
                </button>
            </ActionForm>
        </Door>
    }
}
