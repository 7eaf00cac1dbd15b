//! Stored registry credentials (admins): list without passwords, add, remove. Pulls use them
//! when an image's registry matches ([`Ops::pull_image`]).

use super::{Caller, Op, Ops};
use crate::error::Result;
use crate::registries::{NewRegistry, StoredRegistry};
use crate::step_params;

pub const LIST: Op = Op::admin_read("registry.list");
pub const CREATE: Op = Op::admin("registry.create", 201);
pub const REMOVE: Op = Op::admin("registry.remove", 204);

impl Ops {
    /// The stored credentials, without their passwords.
    pub async fn registries(&self, c: &Caller) -> Result<Vec<StoredRegistry>> {
        self.as_admin(c, &LIST, (None, None), step_params!(), || {
            self.credentials.list()
        })
        .await
    }

    /// Stores a credential (sealed; the password is never shown again); 409 when the server
    /// already has one.
    pub async fn add_registry(&self, c: &Caller, new: &NewRegistry) -> Result<StoredRegistry> {
        let params = step_params!("server": new.server, "username": new.username);
        self.as_admin(c, &CREATE, (None, None), params, || {
            self.credentials.add(new)
        })
        .await
    }

    pub async fn remove_registry(&self, c: &Caller, id: i64) -> Result<()> {
        let object = id.to_string();
        self.as_admin(c, &REMOVE, (None, Some(&object)), step_params!(), || {
            self.credentials.remove(id)
        })
        .await
    }
}
