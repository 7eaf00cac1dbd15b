//! The use cases: every operation a person can ask Capstan for, by one name, whichever door it
//! comes through (the UI's server fns, the REST API, a stream). Each takes the [`Caller`] and its
//! inputs and does, in one place, the policy check ([`crate::policy::authorize`]), the engine
//! call and the audit step ([`Trail`]). Doors are thin callers: they read a request, call one
//! use case and write its answer.
//!
//! An operation is declared once ([`Op`]): its audit name and the host action it needs. The
//! runner ([`Ops::on_host`]) is the only code that turns a permit into a host, so the action
//! checked is always the operation's own.

pub mod access;
pub mod account;
pub mod containers;
pub mod hosts;
pub mod images;
pub mod live;
pub mod registries;
pub mod storage;

use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::audit::Outcome;
use crate::engine::{spool, Spooled, SpooledBody};
use crate::error::{Error, Result};
use crate::fleet::{Fleet, Host};
use crate::guardrails::GuardrailStore;
use crate::policy::{authorize, HostAction, Principal};
use crate::registries::Registries;

/// Whether an operation is recorded when it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Always: it changes something, or hands out data (a download, a terminal).
    Always,
    /// Only when refused: a read.
    Refusals,
}

/// What an operation needs of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// An action on the host it names (the role matrix in [`crate::policy`]).
    Host(HostAction),
    /// Being an admin (the host registry, registry credentials).
    Admin,
    /// Only being signed in: the operation is on the caller's own account (their password,
    /// their API tokens).
    Own,
}

/// One operation: the name the audit log and every door use, and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub name: &'static str,
    pub needs: Needs,
    pub record: Record,
    /// The status it answers with when it works: 200 for a read or a download, 201 for what
    /// makes something, 204 for a change with nothing to say.
    pub ok: u16,
}

impl Op {
    const fn change(name: &'static str, needs: HostAction) -> Op {
        Op {
            name,
            needs: Needs::Host(needs),
            record: Record::Always,
            ok: 204,
        }
    }

    const fn create(name: &'static str, needs: HostAction) -> Op {
        Op {
            ok: 201,
            ..Op::change(name, needs)
        }
    }

    /// A change that answers with what it did (200).
    const fn answer(name: &'static str, needs: HostAction) -> Op {
        Op {
            ok: 200,
            ..Op::change(name, needs)
        }
    }

    const fn read(name: &'static str) -> Op {
        Op {
            name,
            needs: Needs::Host(HostAction::View),
            record: Record::Refusals,
            ok: 200,
        }
    }

    /// An admin's change, answering `ok`.
    const fn admin(name: &'static str, ok: u16) -> Op {
        Op {
            name,
            needs: Needs::Admin,
            record: Record::Always,
            ok,
        }
    }

    /// An admin's read: recorded when refused.
    const fn admin_read(name: &'static str) -> Op {
        Op {
            record: Record::Refusals,
            ..Op::admin(name, 200)
        }
    }

    /// A change to the caller's own account, answering `ok`.
    const fn own(name: &'static str, ok: u16) -> Op {
        Op {
            name,
            needs: Needs::Own,
            record: Record::Always,
            ok,
        }
    }

    /// A read of the caller's own account.
    const fn own_read(name: &'static str) -> Op {
        Op {
            record: Record::Refusals,
            ..Op::own(name, 200)
        }
    }

    /// The host action it needs, when it needs one.
    pub fn host_action(&self) -> Option<HostAction> {
        match self.needs {
            Needs::Host(action) => Some(action),
            Needs::Admin | Needs::Own => None,
        }
    }
}

/// What one use case did, for the audit log: the door that carried the request writes it with
/// who asked and from where ([`Trail::take`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub action: &'static str,
    pub host: Option<String>,
    pub object: Option<String>,
    /// The inputs that matter, as a JSON object; secrets are redacted by the writer.
    pub params: Value,
    /// The HTTP status the operation answers with (the same from every door).
    pub status: u16,
    pub outcome: Outcome,
}

/// The steps of one request, shared between the door that writes them and the use cases that
/// add them. A request with steps is recorded from them; one without (a door that is not a use
/// case yet, a refusal before any use case ran) from its path.
#[derive(Debug, Clone, Default)]
pub struct Trail(Arc<Mutex<Vec<Step>>>);

impl Trail {
    fn push(&self, step: Step) {
        if let Ok(mut steps) = self.0.lock() {
            steps.push(step);
        }
    }

    /// The steps so far, leaving none.
    pub fn take(&self) -> Vec<Step> {
        self.0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// Who asks, and where what they did is recorded.
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub trail: Trail,
}

impl Caller {
    pub fn new(who: Principal, trail: Trail) -> Self {
        Caller { who, trail }
    }

    /// Records how `op` ended on `host`, as the op's [`Record`] says.
    fn note<T>(
        &self,
        op: &Op,
        host: Option<&str>,
        object: Option<&str>,
        params: Value,
        result: &Result<T>,
    ) {
        let (status, outcome) = match result {
            Ok(_) => (op.ok, Outcome::Ok),
            Err(e) => (e.http_status().0, self.outcome_of(host, e)),
        };
        if op.record == Record::Refusals && outcome != Outcome::Denied {
            return;
        }
        self.trail.push(Step {
            action: op.name,
            host: host.map(str::to_owned),
            object: object.map(str::to_owned),
            params,
            status,
            outcome,
        });
    }

    /// A refusal by the policy or a guardrail is `denied` (a host the caller may not see
    /// answers 404 like a missing one, and is a denial all the same); anything else `failed`.
    fn outcome_of(&self, host: Option<&str>, e: &Error) -> Outcome {
        match e {
            Error::Forbidden | Error::Denied { .. } | Error::Unauthenticated(_) => Outcome::Denied,
            Error::NotFound(what)
                if what == "host" && host.is_some_and(|h| !self.who.can_see(h)) =>
            {
                Outcome::Denied
            }
            _ => Outcome::Failed,
        }
    }
}

/// The use cases, with what they need: the host registry (and its fleet), the guardrails and
/// the stored registry credentials.
#[derive(Clone)]
pub struct Ops {
    hosts: crate::hosts::Registry,
    accounts: crate::auth::Accounts,
    guardrails: GuardrailStore,
    credentials: Registries,
}

/// An upload's body, the most it may hold and where it is spooled before the engine sees a
/// byte (so a body that is too large leaves nothing behind).
pub struct Upload<S> {
    pub body: S,
    pub limit: u64,
    pub spool_dir: std::path::PathBuf,
}

/// Spools `upload` to disk within its limit.
async fn spool_within<S, E>(upload: Upload<S>) -> Result<SpooledBody>
where
    S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send,
    E: std::fmt::Display,
{
    match spool(upload.body, upload.limit, &upload.spool_dir).await? {
        Spooled::Ready(body) => Ok(body),
        Spooled::TooLarge => Err(Error::too_large(upload.limit)),
    }
}

impl Ops {
    /// The use cases over the host registry's fleet and store.
    pub fn new(hosts: &crate::hosts::Registry, accounts: &crate::auth::Accounts) -> Self {
        Ops {
            hosts: hosts.clone(),
            accounts: accounts.clone(),
            guardrails: GuardrailStore::new(hosts.pool().clone()),
            credentials: hosts.credentials(),
        }
    }

    pub fn fleet(&self) -> &Fleet {
        self.hosts.fleet()
    }

    /// Runs `op` on one host: asks the policy for the op's action, hands the host to `work`
    /// and records the step with `params` (and the object, when there is one).
    async fn on_host<T, F, Fut>(
        &self,
        caller: &Caller,
        op: &Op,
        target: (&str, Option<&str>),
        params: Value,
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(Host) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.on_host_then(caller, op, target, params, work, |_, _| {})
            .await
    }

    /// [`Ops::on_host`], adding to the step's parameters what the work made (`made`).
    async fn on_host_then<T, F, Fut>(
        &self,
        caller: &Caller,
        op: &Op,
        (host, object): (&str, Option<&str>),
        mut params: Value,
        work: F,
        made: impl FnOnce(&T, &mut serde_json::Map<String, Value>),
    ) -> Result<T>
    where
        F: FnOnce(Host) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let result = async {
            let action = match op.needs {
                Needs::Host(action) => action,
                Needs::Admin if caller.who.admin => HostAction::View,
                Needs::Admin | Needs::Own => return Err(Error::Forbidden),
            };
            let permit = authorize(&caller.who, host, action)?;
            let host = self.fleet().host(&permit)?;
            work(host).await
        }
        .await;
        if let (Ok(value), Some(map)) = (&result, params.as_object_mut()) {
            made(value, map);
        }
        caller.note(op, Some(host), object, params, &result);
        result
    }

    /// Runs an admin's `op` that names no host of the fleet (or one that may not exist yet):
    /// anyone else is refused (403) before `work` runs. The step is recorded with `params` and
    /// the object.
    async fn as_admin<T, Fut>(
        &self,
        caller: &Caller,
        op: &Op,
        (host, object): (Option<&str>, Option<&str>),
        params: Value,
        work: impl FnOnce() -> Fut,
    ) -> Result<T>
    where
        Fut: Future<Output = Result<T>>,
    {
        debug_assert_eq!(op.needs, Needs::Admin, "{} is not an admin's op", op.name);
        let result = if caller.who.admin {
            work().await
        } else {
            Err(Error::Forbidden)
        };
        caller.note(op, host, object, params, &result);
        result
    }

    /// Runs `op` on the caller's own account: `work` gets the caller's user id; the step is
    /// recorded with `params` and the object.
    async fn as_self<T, Fut>(
        &self,
        caller: &Caller,
        op: &Op,
        object: Option<&str>,
        params: Value,
        work: impl FnOnce(i64) -> Fut,
    ) -> Result<T>
    where
        Fut: Future<Output = Result<T>>,
    {
        debug_assert_eq!(
            op.needs,
            Needs::Own,
            "{} is not an op on one's own account",
            op.name
        );
        let result = work(caller.who.user_id).await;
        caller.note(op, None, object, params, &result);
        result
    }
}

/// Parameters for a step: a JSON object of the given fields, leaving out the ones that are
/// `None`.
#[macro_export]
#[doc(hidden)]
macro_rules! step_params {
    ($($key:literal : $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = serde_json::Map::new();
        $(
            let value = serde_json::to_value(&$value).unwrap_or(serde_json::Value::Null);
            if !value.is_null() {
                map.insert($key.to_owned(), value);
            }
        )*
        serde_json::Value::Object(map)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;

    fn person(grants: &[(&str, Role)]) -> Principal {
        Principal {
            user_id: 7,
            username: "dev".into(),
            admin: false,
            roles: grants.iter().map(|(h, r)| (h.to_string(), *r)).collect(),
        }
    }

    #[test]
    fn refusals_are_denials_and_reads_record_only_them() {
        let caller = Caller::new(person(&[("mine", Role::Viewer)]), Trail::default());
        let stop = Op::change("container.stop", HostAction::Operate);
        let list = Op::read("container.list");
        caller.note::<()>(
            &stop,
            Some("mine"),
            Some("web"),
            Value::Null,
            &Err(Error::Forbidden),
        );
        caller.note::<()>(
            &stop,
            Some("theirs"),
            None,
            Value::Null,
            &Err(Error::NotFound("host".into())),
        );
        caller.note::<()>(
            &stop,
            Some("mine"),
            Some("gone"),
            Value::Null,
            &Err(Error::NotFound("container".into())),
        );
        caller.note(&list, Some("mine"), None, Value::Null, &Ok(()));
        caller.note::<()>(
            &list,
            Some("mine"),
            None,
            Value::Null,
            &Err(Error::EngineTimeout),
        );
        let steps = caller.trail.take();
        let seen: Vec<_> = steps
            .iter()
            .map(|s| (s.action, s.status, s.outcome))
            .collect();
        assert_eq!(
            seen,
            [
                ("container.stop", 403, Outcome::Denied),
                ("container.stop", 404, Outcome::Denied),
                ("container.stop", 404, Outcome::Failed),
            ]
        );
        assert!(caller.trail.take().is_empty(), "taken once");
    }

    #[test]
    fn step_params_leave_out_what_is_not_given() {
        let none: Option<i64> = None;
        assert_eq!(
            step_params!("t": none, "signal": Some("KILL"), "force": true),
            serde_json::json!({"signal": "KILL", "force": true})
        );
    }
}
