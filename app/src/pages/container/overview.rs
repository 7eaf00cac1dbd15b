//! The Overview tab: what the engine knows about the container, in facts and tables.

use super::use_container;
use crate::components::containers::port_views;
use crate::format;
use crate::pages::container::{when, ContainerInfo};
use leptos::prelude::*;

#[component]
pub fn ContainerOverview() -> impl IntoView {
    let ctx = use_container();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                ctx.page.await.ok().map(|p| view! { <Overview p /> })
            })}
        </Transition>
    }
}

fn fact(label: &'static str, value: impl Into<String>) -> impl IntoView {
    let value = value.into();
    let shown = if value.is_empty() {
        "—".to_string()
    } else {
        value
    };
    view! {
        <div class="fact">
            <dt>{label}</dt>
            <dd>{shown}</dd>
        </div>
    }
}

fn mono_fact(label: &'static str, value: String) -> impl IntoView {
    let empty = value.is_empty();
    view! {
        <div class="fact">
            <dt>{label}</dt>
            <dd class:mono=!empty>{if empty { "—".to_string() } else { value }}</dd>
        </div>
    }
}

/// A command line as a person would type it: words with spaces are quoted.
fn words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) || a.contains('"') {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The raw inspect answer with the values of secret-looking environment variables masked.
fn masked_raw(raw: &serde_json::Value, secret_keys: &[String]) -> serde_json::Value {
    let mut raw = raw.clone();
    if let Some(env) = raw
        .pointer_mut("/Config/Env")
        .and_then(|e| e.as_array_mut())
    {
        for item in env.iter_mut() {
            if let Some((k, _)) = item.as_str().and_then(|s| s.split_once('=')) {
                if secret_keys.iter().any(|s| s == k) {
                    *item = serde_json::Value::String(format!("{k}=••••••"));
                }
            }
        }
    }
    raw
}

#[component]
fn Overview(p: ContainerInfo) -> impl IntoView {
    let d = p.detail;
    let reveal = RwSignal::new(false);
    let memory = if d.memory > 0 {
        format::bytes(u64::try_from(d.memory).unwrap_or_default())
    } else {
        "unlimited".into()
    };
    let cpus = if d.nano_cpus > 0 {
        format!("{:.2} CPUs", d.nano_cpus as f64 / 1e9)
    } else {
        "unlimited".into()
    };
    let secret_keys: Vec<String> = d
        .env
        .iter()
        .filter(|v| v.secret)
        .map(|v| v.key.clone())
        .collect();
    let env_hidden = d.env_hidden;
    let any_secret = !secret_keys.is_empty() && !env_hidden;
    let raw = d.raw.clone();
    let raw_text = move || {
        let value = if reveal.get() {
            raw.clone()
        } else {
            masked_raw(&raw, &secret_keys)
        };
        serde_json::to_string_pretty(&value).unwrap_or_default()
    };
    let address = p.address.clone();
    let flags = [
        d.tty.then_some("tty"),
        d.stdin.then_some("stdin open"),
        d.auto_remove.then_some("removed when it stops (--rm)"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let health = d.health.clone();
    view! {
        <div class="panels">
            <section class="panel" aria-labelledby="config-title">
                <h2 id="config-title">"Configuration"</h2>
                <dl class="facts">
                    {mono_fact("Command", words(&d.cmd))}
                    {mono_fact("Entrypoint", words(&d.entrypoint))}
                    {mono_fact("Working dir", d.workdir.clone())}
                    {fact("User", d.user.clone())}
                    {fact("Host name", d.hostname.clone())}
                    {fact("Flags", flags)}
                    {mono_fact("ID", d.id.clone())}
                </dl>
            </section>
            <section class="panel" aria-labelledby="life-title">
                <h2 id="life-title">"Lifecycle"</h2>
                <dl class="facts">
                    {fact("Created", when(&d.created).unwrap_or_default())}
                    {fact("Started", d.started_at.as_deref().and_then(when).unwrap_or_else(|| "never".into()))}
                    {fact("Finished", d.finished_at.as_deref().and_then(when).unwrap_or_default())}
                    {fact("Exit code", if d.running { String::new() } else { d.exit_code.to_string() })}
                    {fact("Restart policy", d.restart_policy.clone())}
                    {fact("Restarts", d.restart_count.to_string())}
                    {fact("Memory limit", memory)}
                    {fact("CPU limit", cpus)}
                    {fact("PID", if d.pid > 0 { d.pid.to_string() } else { String::new() })}
                </dl>
            </section>
        </div>
        {health.map(|h| {
            let last = h.log.last().cloned();
            view! {
                <section class="panel" aria-labelledby="health-title">
                    <h2 id="health-title">"Health"</h2>
                    <dl class="facts">
                        {fact("Status", h.status.clone())}
                        {fact("Failing streak", h.failing_streak.to_string())}
                        {last.map(|l| view! {
                            <div class="fact"><dt>"Last check"</dt><dd><span class="muted small">{format!("exit {} · {}", l.exit_code, when(&l.end).unwrap_or(l.end.clone()))}</span><pre class="pre-small">{l.output}</pre></dd></div>
                        })}
                    </dl>
                </section>
            }
        })}
        <section class="panel" aria-labelledby="ports-title">
            <h2 id="ports-title">"Ports"</h2>
            {if d.ports.is_empty() {
                view! { <p class="muted">"No ports are published or exposed."</p> }.into_any()
            } else {
                view! { <p class="ports">{port_views(&d.ports, address.as_deref())}</p> }.into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="mounts-title">
            <h2 id="mounts-title">"Mounts"</h2>
            {if d.mounts.is_empty() {
                view! { <p class="muted">"No volumes or bind mounts."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table table-cards" aria-label="Mounts">
                            <thead><tr><th scope="col">"Destination"</th><th scope="col">"Type"</th><th scope="col">"Source"</th><th scope="col">"Mode"</th></tr></thead>
                            <tbody>
                                {d.mounts.iter().map(|m| view! {
                                    <tr>
                                        <td data-label="Destination" class="cell-primary mono">{m.destination.clone()}</td>
                                        <td data-label="Type">{m.kind.clone()}</td>
                                        <td data-label="Source" class="mono small cell-wrap">{m.name.clone().unwrap_or_else(|| m.source.clone())}</td>
                                        <td data-label="Mode">{if m.rw { "read-write" } else { "read-only" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="env-title" data-testid="environment">
            <div class="panel-title-row">
                <h2 id="env-title">"Environment"</h2>
                {any_secret.then(|| view! {
                    <button type="button" class="button button-quiet" aria-pressed=move || reveal.get().to_string() on:click=move |_| reveal.update(|r| *r = !*r)>
                        {move || if reveal.get() { "Hide secrets" } else { "Reveal secrets" }}
                    </button>
                })}
            </div>
            {env_hidden.then(|| view! {
                <p class="muted small" data-testid="env-hidden">"Values are hidden from you: only admins and this host's managers see them (an admin can show them to everyone in the host's guardrails)."</p>
            })}
            {if d.env.is_empty() {
                view! { <p class="muted">"No environment variables."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table table-cards" aria-label="Environment">
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Value"</th></tr></thead>
                            <tbody>
                                {d.env.iter().map(|v| {
                                    let (secret, value) = (v.secret, v.value.clone());
                                    view! {
                                        <tr data-env=v.key.clone()>
                                            <td data-label="Name" class="cell-primary mono strong">{v.key.clone()}</td>
                                            <td data-label="Value" class="mono small cell-wrap">
                                                {move || if env_hidden {
                                                    view! { <span class="masked" title="Hidden: ask a manager of this host">"hidden"</span> }.into_any()
                                                } else if secret && !reveal.get() {
                                                    view! { <span class="masked" title="Hidden: the name looks like a secret">"••••••"</span> }.into_any()
                                                } else {
                                                    value.clone().into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
        <div class="panels">
            <section class="panel" aria-labelledby="labels-title" data-testid="container-labels">
                <h2 id="labels-title">"Labels"</h2>
                {if d.labels.is_empty() {
                    view! { <p class="muted">"No labels."</p> }.into_any()
                } else {
                    view! {
                        <dl class="facts">
                            {d.labels.iter().map(|(k, v)| view! {
                                <div class="fact fact-wide"><dt class="mono">{k.clone()}</dt><dd class="mono small">{v.clone()}</dd></div>
                            }).collect_view()}
                        </dl>
                    }
                    .into_any()
                }}
            </section>
            <section class="panel" aria-labelledby="net-title">
                <h2 id="net-title">"Networks"</h2>
                <p class="muted small">{format!("Network mode: {}", d.network_mode)}</p>
                {if d.networks.is_empty() {
                    view! { <p class="muted">"Not attached to any network."</p> }.into_any()
                } else {
                    view! {
                        <dl class="facts">
                            {d.networks.iter().map(|n| {
                                let mut parts = vec![n.ip_address.clone().unwrap_or_else(|| "no address".into())];
                                if let Some(v6) = &n.ipv6_address { parts.push(v6.clone()); }
                                if let Some(g) = &n.gateway { parts.push(format!("gateway {g}")); }
                                if let Some(m) = &n.mac_address { parts.push(format!("MAC {m}")); }
                                if !n.aliases.is_empty() { parts.push(format!("aliases {}", n.aliases.join(", "))); }
                                view! { <div class="fact"><dt class="strong">{n.name.clone()}</dt><dd class="mono small">{parts.join(" · ")}</dd></div> }
                            }).collect_view()}
                        </dl>
                    }
                    .into_any()
                }}
            </section>
        </div>
        <details class="panel raw-json">
            <summary>"Raw inspect JSON"</summary>
            <pre class="pre">{raw_text}</pre>
        </details>
    }
}
