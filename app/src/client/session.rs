//! Who is signed in, and signing out: the session's server fns every area uses.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::MeView;

#[server(output = crate::codec::TextJson)]
pub async fn current_user() -> Result<MeView, AppError> {
    let who = crate::ssr::principal()?;
    Ok(MeView::new(&who, &crate::ssr::fleet()?))
}

#[server(output = crate::codec::TextJson)]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::ssr::session()?;
    if let Err(e) = session.flush().await {
        tracing::error!("ending a session: {e}");
        return Err(AppError::Internal);
    }
    leptos_axum::redirect("/login");
    Ok(())
}
