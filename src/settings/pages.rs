//! The Settings pages, one tab per concern.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::model::{EmailSettings, OutboxMessage, SmtpInput};
use crate::app::{use_me, MeRefresh};
use crate::auth::editions::{Edition, Service};
use crate::auth::model::{NewUser, Role, UserList};
use crate::components::errors::ErrorList;
use crate::components::form::{Field, FormError, FormErrors};
use crate::components::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::toggle::Toggle;
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::{toast_outcome, use_toaster};
use crate::error::AppError;
use crate::overview::score::{ScoreWeights, RISK_TYPES, SEVERITY_ORDER};

const TABS: [(&str, &str); 10] = [
    ("/settings/account", "Account"),
    ("/settings/email", "Email"),
    ("/settings/resource-directory", "Resource Directory"),
    ("/settings/invitations", "Invitations"),
    ("/settings/advisories", "Advisories"),
    ("/settings/users", "Users"),
    ("/settings/tokens", "API tokens"),
    ("/settings/score", "Security score"),
    ("/settings/authorizations", "Authorizations"),
    ("/settings/audit", "Audit log"),
];

#[component]
pub fn SettingsTabs(current: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>"Settings"</h1>
        </div>
        <nav class="tabs">
            {TABS
                .iter()
                .map(|(href, label)| {
                    view! {
                        <a class="tab" href=*href aria-current=if *href == current { "page" } else { "false" }>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Shows a toast when an action finishes, and refreshes the signed-in user on success if asked.
fn on_done<T: 'static>(value: impl Fn() -> Option<Result<T, AppError>> + 'static, success: &'static str, refresh_me: bool) {
    let refresh = expect_context::<MeRefresh>();
    toast_outcome(value, success, move || {
        if refresh_me {
            refresh.bump();
        }
    });
}

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let me = use_me();
    // At the page's top, not in the time-zone card: that card renders inside the Suspend below,
    // and a resource created there hydrates out of order now and then.
    let zone_settings = Resource::new(|| (), |_| get_email_settings());
    let action = ServerAction::<SetEdition>::new();
    on_done(move || action.value().get(), "Edition changed.", true);
    view! {
        <SettingsTabs current="/settings/account"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok()?;
                let admin = me.is_admin();
                let account = me.account.clone();
                Some(view! {
                    <section class="card">
                        <dl class="details">
                            <dt>"Account name"</dt>
                            <dd>{account.name.clone()}</dd>
                            <dt>"Account id"</dt>
                            <dd class="mono">{account.account_no.clone()}</dd>
                            <dt>"Edition"</dt>
                            <dd data-testid="current-edition">{account.edition.label()}</dd>
                        </dl>
                    </section>
                    <section class="card">
                        <h2>"Edition"</h2>
                        <p class="muted">
                            "Security reports need Advanced; playbooks, container signature and multi-account control need Enterprise. Changing the edition is recorded in the audit log."
                        </p>
                        <ActionForm action=action attr:class="inline-form">
                            <div class="field">
                                <label for="edition">"Edition"</label>
                                <select id="edition" name="edition" disabled=!admin>
                                    {Edition::ALL
                                        .iter()
                                        .map(|e| {
                                            view! {
                                                <option value=e.as_str() selected=*e == account.edition>
                                                    {e.label()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </div>
                            <button class="btn btn-primary" type="submit" disabled=!admin>
                                "Change edition"
                            </button>
                        </ActionForm>
                        {(!admin).then(|| view! { <p class="muted">"Only admins can change the edition."</p> })}
                    </section>
                    <TimeZoneCard admin settings=zone_settings/>
                })
            })}
        </Transition>
    }
}

#[component]
pub fn UsersSettingsPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || (add.version().get(), set_role.version().get(), remove.version().get()),
        |_| list_users(),
    );
    on_done(move || set_role.value().get(), "Role changed.", false);
    on_done(move || remove.value().get(), "User removed.", false);
    let removing: Asking = RwSignal::new(None);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_string());
    let password = RwSignal::new(String::new());
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("User added.");
                email.set(String::new());
                name.set(String::new());
                password.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = NewUser { email: email.get(), name: name.get(), role: role.get(), password: password.get() };
        match user.validate() {
            Err(e) => {
                form_error.set(errors.absorb::<()>(&Err(e)));
            }
            Ok(()) => {
                add.dispatch(AddUser { user });
            }
        }
    };
    view! {
        <SettingsTabs current="/settings/users"/>
        <section class="card">
            <h2>"Users of this account"</h2>
            <ConfirmDialog
                asking=removing
                title="Remove user"
                question=|email| format!("Remove {email}? They are signed out and can no longer sign in.")
                confirm_label="Remove user"
                on_confirm=Callback::new(move |id| {
                    remove.dispatch(RemoveUser { id });
                })
            />
            <Loaded resource=users loading="Loading users…" render=move |list: UserList| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="user-table">
                        <thead><tr><th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"Added"</th><th></th></tr></thead>
                        <tbody>
                            {list.users.into_iter().map(|u| {
                                let manageable = list.can_manage && u.id != list.you;
                                let asked = (u.id, u.email.clone());
                                let id = u.id;
                                view! {
                                    <tr>
                                        <td>{u.email.clone()}{(u.id == list.you).then(|| view! { <span class="muted">" (you)"</span> })}</td>
                                        <td>{u.name}</td>
                                        <td>
                                            <select
                                                aria-label=format!("Role of {}", u.email)
                                                disabled=!manageable
                                                on:change=move |ev| {
                                                    set_role.dispatch(SetUserRole { id, role: event_target_value(&ev) });
                                                }
                                            >
                                                {Role::ALL.iter().map(|r| view! {
                                                    <option value=r.as_str() selected=*r == u.role>{r.label()}</option>
                                                }).collect_view()}
                                            </select>
                                        </td>
                                        <td>{date_time(Some(u.created_at))}</td>
                                        <td class="right">
                                            {manageable.then(|| view! { <AskButton asking=removing item=asked label="Remove"/> })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }/>
        </section>
        <section class="card">
            <h2>"Add a user"</h2>
            <form class="form" on:submit=submit novalidate>
                <Field label="Email" name="email" error=errors.message("email")>
                    <input id="email" type="email" autocomplete="off" bind:value=email/>
                </Field>
                <Field label="Name" name="name" error=errors.message("name")>
                    <input id="name" type="text" bind:value=name/>
                </Field>
                <Field label="Role" name="role" error=errors.message("role")>
                    <select id="role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=role>
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </Field>
                <Field label="Initial password" name="password" error=errors.message("password") hint="At least 12 characters. The user can sign in with it at once.">
                    <input id="password" type="password" autocomplete="new-password" bind:value=password/>
                </Field>
                <FormError message=form_error/>
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit" disabled=move || add.pending().get()>
                        {move || if add.pending().get() { "Adding…" } else { "Add user" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

#[component]
pub fn TokenSettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            form_error.set(errors.absorb(&result));
        }
    });
    on_done(move || revoke.value().get(), "Token revoked.", false);
    // The token a Revoke button asked about, confirmed in a dialog before anything happens.
    let confirming: Asking = RwSignal::new(None);
    view! {
        <SettingsTabs current="/settings/tokens"/>
        <ConfirmDialog
            asking=confirming
            title="Revoke API token"
            question=|name| format!("Revoke \"{name}\"? Whatever uses it is refused from now on. This cannot be undone.")
            confirm_label="Revoke token"
            on_confirm=Callback::new(move |id| {
                revoke.dispatch(RevokeToken { id });
            })
        />
        <section class="card">
            <h2>"Create an API token"</h2>
            <p class="muted">"Scanners and agents use a token to send data to the ingestion API (/api/v1/…). The token is shown once; Bulwark keeps only its hash."</p>
            <ActionForm action=create attr:class="inline-form">
                <Field label="Token name" name="name" error=errors.message("name")>
                    <input id="name" name="name" type="text" required maxlength="64"/>
                </Field>
                <button class="btn btn-primary" type="submit">"Create token"</button>
            </ActionForm>
            <FormError message=form_error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice notice-warning">
                    <p>{format!("Copy the token \"{}\" now: it will not be shown again.", t.name)}</p>
                    <div class="secret-once" data-testid="new-token">{t.token}</div>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Tokens"</h2>
            <Loaded resource=tokens loading="Loading tokens…" render=move |tokens| view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="token-table">
                                    <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
                                    <tbody>
                                        {rows_or_empty(tokens, 6, "No tokens yet.", |t| {
                                                let active = t.revoked_at.is_none();
                                                let asked = (t.id, t.name.clone());
                                                view! {
                                                    <tr>
                                                        <td>{t.name}</td>
                                                        <td class="mono">{format!("{}…", t.prefix)}</td>
                                                        <td>{date_time(Some(t.created_at))}</td>
                                                        <td>{date_time(t.last_used_at)}</td>
                                                        <td>{if active { "Active".to_string() } else { format!("Revoked {}", date_time(t.revoked_at)) }}</td>
                                                        <td class="right">
                                                            {active.then(|| view! { <AskButton asking=confirming item=asked label="Revoke"/> })}
                                                        </td>
                                                    </tr>
                                                }
                                        })}
                                    </tbody>
                                </table>
                            </div>
            }/>
        </section>
    }
}

fn weights_field(kind: &str, severity_index: usize) -> String {
    format!("{kind}.{}", SEVERITY_ORDER[severity_index].as_str())
}

#[component]
pub fn ScoreSettingsPage() -> impl IntoView {
    let save = ServerAction::<SetScoreWeights>::new();
    // Loaded once: the form keeps what was saved, and re-creating it would replay the last result.
    let weights = Resource::new(|| (), |_| get_score_weights());
    let me = use_me();
    view! {
        <SettingsTabs current="/settings/score"/>
        <section class="card">
            <h2>"Security score weights"</h2>
            <p class="muted">
                "Each weight is the most a kind of risk at a severity can take off the score; the first open risk takes half of it, more risks approach the whole. The twelve weights add up to 100. Whatever the weights, unhandled alerts cap the score at 60, unfixed vulnerabilities at 80 and baseline risks at 90; it never falls below 10. 95–100 is good, 70–94 needs attention, 69 and below is at risk."
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorList errors/> }>
                    {move || Suspend::new(async move {
                        let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                        weights.await.map(|w| view! { <WeightsForm initial=w save admin/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn WeightsForm(initial: ScoreWeights, save: ServerAction<SetScoreWeights>, admin: bool) -> impl IntoView {
    let cells: Vec<[RwSignal<String>; 4]> = initial
        .rows()
        .iter()
        .map(|(_, row)| row.map(|w| RwSignal::new(w.to_string())))
        .collect();
    let cells = StoredValue::new(cells);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("Weights saved.");
            }
        }
    });
    let parse = move || -> Result<ScoreWeights, AppError> {
        let mut bad = crate::error::FieldErrors::new();
        let rows: Vec<[i64; 4]> = cells.with_value(|cells| {
            cells
                .iter()
                .enumerate()
                .map(|(k, row)| {
                    let mut out = [0i64; 4];
                    for (i, cell) in row.iter().enumerate() {
                        match cell.get_untracked().trim().parse::<i64>() {
                            Ok(v) => out[i] = v,
                            Err(_) => {
                                bad.insert(weights_field(RISK_TYPES[k], i), "Use a whole number from 0 to 100.".into());
                            }
                        }
                    }
                    out
                })
                .collect()
        });
        AppError::check(bad)?;
        let weights = ScoreWeights { alerts: rows[0], vulnerabilities: rows[1], baseline: rows[2] };
        weights.validate()?;
        Ok(weights)
    };
    let total = move || {
        cells.with_value(|cells| {
            cells.iter().flat_map(|row| row.iter()).map(|c| c.get().trim().parse::<i64>().unwrap_or(0)).sum::<i64>()
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match parse() {
            Ok(weights) => {
                save.dispatch(SetScoreWeights { weights });
            }
            Err(e) => form_error.set(errors.absorb::<()>(&Err(e))),
        }
    };
    let labels = ["Unhandled alerts", "Unfixed vulnerabilities", "Baseline risks"];
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="weights-grid">
                <span></span>
                {SEVERITY_ORDER.iter().map(|s| view! { <strong>{s.label()}</strong> }).collect_view()}
                {labels
                    .iter()
                    .enumerate()
                    .map(|(k, label)| {
                        let row = cells.with_value(|c| c[k]);
                        view! {
                            <span>{*label}</span>
                            {row
                                .into_iter()
                                .enumerate()
                                .map(|(i, cell)| {
                                    let field = weights_field(RISK_TYPES[k], i);
                                    let name = field.clone();
                                    let error = Signal::derive(move || errors.0.with(|e| e.get(&field).cloned()));
                                    view! {
                                        <div class="field" class:invalid=move || error.get().is_some()>
                                            <input
                                                type="number"
                                                min="0"
                                                max="100"
                                                name=name.clone()
                                                aria-label=name
                                                disabled=!admin
                                                value=cell.get_untracked()
                                                bind:value=cell
                                            />
                                            {move || error.get().map(|m| view! { <div class="field-error">{m}</div> })}
                                        </div>
                                    }
                                })
                                .collect_view()}
                        }
                    })
                    .collect_view()}
            </div>
            <p data-testid="weights-total">{move || format!("Total: {}", total())}</p>
            {move || errors.message("total").get().map(|m| view! { <div class="field-error" role="alert">{m}</div> })}
            <FormError message=form_error/>
            <div class="form-actions">
                <button class="btn btn-primary" type="submit" disabled=!admin>"Save weights"</button>
            </div>
        </form>
    }
}

#[component]
pub fn AuthorizationSettingsPage() -> impl IntoView {
    let me = use_me();
    let grant = ServerAction::<GrantAuthorization>::new();
    let revoke = ServerAction::<RevokeAuthorization>::new();
    on_done(move || grant.value().get(), "Authorized.", true);
    on_done(move || revoke.value().get(), "Authorization revoked.", true);
    view! {
        <SettingsTabs current="/settings/authorizations"/>
        <section class="card">
            <h2>"Authorizations"</h2>
            <p class="muted">"Features that reach other services ask once for authorization. Revoking it turns the feature off until it is authorized again."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let me = me.await.ok()?;
                    Some(view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="authorization-table">
                                <thead><tr><th>"Feature"</th><th>"Access"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {Service::ALL.iter().map(|s| {
                                        let granted = me.has_authorized(*s);
                                        let allowed = me.allows(s.feature());
                                        view! {
                                            <tr>
                                                <td>{s.feature().label()}</td>
                                                <td>{s.label()}</td>
                                                <td>{if granted { "Authorized" } else if allowed { "Not authorized" } else { "Needs a higher edition" }}</td>
                                                <td class="right">
                                                    <Toggle
                                                        checked=granted
                                                        label=format!("Authorize {}", s.feature().label())
                                                        disabled=!(me.is_admin() && allowed)
                                                        on_change=Callback::new({
                                                            let service = s.as_str().to_string();
                                                            move |on: bool| {
                                                                if on {
                                                                    grant.dispatch(GrantAuthorization { service: service.clone() });
                                                                } else {
                                                                    revoke.dispatch(RevokeAuthorization { service: service.clone() });
                                                                }
                                                            }
                                                        })
                                                    />
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn AuditSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1)));
    let entries = Resource::new(move || page.get(), list_audit);
    view! {
        <SettingsTabs current="/settings/audit"/>
        <section class="card">
            <h2>"Audit log"</h2>
            <Loaded resource=entries loading="Loading the audit log…" render=move |(entries, total)| view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="audit-table">
                                    <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th>"Detail"</th></tr></thead>
                                    <tbody>
                                        {entries.into_iter().map(|e| view! {
                                            <tr>
                                                <td class="nowrap">{date_time(Some(e.at))}</td>
                                                <td>{e.actor}</td>
                                                <td class="mono">{e.action}</td>
                                                <td>{e.target}</td>
                                                <td class="muted">{e.detail}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pagination page=page.get_untracked() page_count=(total + 49) / 50 total href=|p| format!("/settings/audit?page={p}")/>
            }/>
        </section>
    }
}

/// Common IANA zones offered as suggestions; any IANA name is accepted.
const ZONE_SUGGESTIONS: [&str; 16] = [
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Moscow", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney",
];

#[component]
fn TimeZoneCard(admin: bool, settings: Resource<Result<EmailSettings, AppError>>) -> impl IntoView {
    let action = ServerAction::<SetTimeZone>::new();
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("Time zone changed; report schedules follow it.");
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Time zone"</h2>
            <p class="muted">"Report periods and report times are in this zone (an IANA name such as Europe/Berlin)."</p>
            <Loaded resource=settings loading="Loading…" render=move |s: EmailSettings| view! {
                <ActionForm action=action attr:class="inline-form">
                    <Field label="Time zone" name="time_zone" error=errors.message("time_zone")>
                        <input id="time_zone" name="time_zone" type="text" list="zones" value=s.time_zone.clone() disabled=!admin autocomplete="off"/>
                    </Field>
                    <datalist id="zones">
                        {ZONE_SUGGESTIONS.iter().map(|z| view! { <option value=*z></option> }).collect_view()}
                    </datalist>
                    <button class="btn btn-primary" type="submit" disabled=!admin>"Save time zone"</button>
                </ActionForm>
                <FormError message=form_error/>
            }/>
        </section>
    }
}

#[component]
pub fn EmailSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSmtpSettings>::new();
    let remove = ServerAction::<RemoveSmtpSettings>::new();
    let test = ServerAction::<SendTestEmail>::new();
    let settings = Resource::new(move || (save.version().get(), remove.version().get()), |_| get_email_settings());
    let outbox = Resource::new(move || (test.version().get(), remove.version().get(), save.version().get()), |_| list_outbox());
    let me = use_me();
    on_done(move || remove.value().get(), "SMTP server removed; mail goes to the local outbox.", false);
    view! {
        <SettingsTabs current="/settings/email"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                Some(view! {
                    <Loaded resource=settings loading="Loading email settings…" render=move |s: EmailSettings| view! {
                        <SmtpCard settings=s admin save remove/>
                    }/>
                    {admin.then(|| view! {
                        <TestEmailCard test/>
                        <section class="card">
                            <h2>"Local outbox"</h2>
                            <p class="muted">"Without an SMTP server, Bulwark writes each message as an .eml file here. Open one in any mail program."</p>
                            <Loaded resource=outbox loading="Loading the outbox…" render=|messages| view! { <OutboxTable messages/> }/>
                        </section>
                    })}
                })
            })}
        </Transition>
    }
}

#[component]
fn SmtpCard(settings: EmailSettings, admin: bool, save: ServerAction<SaveSmtpSettings>, remove: ServerAction<RemoveSmtpSettings>) -> impl IntoView {
    let current = settings.smtp.clone();
    let host = RwSignal::new(current.as_ref().map(|s| s.host.clone()).unwrap_or_default());
    let port = RwSignal::new(current.as_ref().map(|s| s.port.to_string()).unwrap_or_else(|| "587".into()));
    let security = RwSignal::new(current.as_ref().map(|s| s.security.clone()).unwrap_or_else(|| "starttls".into()));
    let username = RwSignal::new(current.as_ref().map(|s| s.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let from = RwSignal::new(current.as_ref().map(|s| s.from.clone()).unwrap_or_default());
    let has_password = current.as_ref().map(|s| s.has_password).unwrap_or(false);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("SMTP server saved.");
                password.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let smtp = SmtpInput {
            host: host.get(),
            port: port.get(),
            security: security.get(),
            username: username.get(),
            password: password.get(),
            clear_password: None,
            from: from.get(),
        };
        let found = smtp.validate();
        errors.0.set(found.clone());
        if found.is_empty() {
            save.dispatch(SaveSmtpSettings { smtp });
        }
    };
    let status = if settings.smtp.is_some() {
        "This account sends through its own SMTP server.".to_string()
    } else if let Some(console) = &settings.console_smtp {
        format!("This account uses the console's SMTP server ({console}) until it sets its own.")
    } else {
        "No SMTP server: mail goes to the local outbox below.".to_string()
    };
    view! {
        <section class="card">
            <h2>"SMTP server"</h2>
            <p class="muted" data-testid="smtp-status">{status}</p>
            <form class="form" on:submit=submit novalidate>
                <div class="field-row">
                    <Field label="Host" name="host" error=errors.message("host")>
                        <input id="host" type="text" bind:value=host disabled=!admin placeholder="smtp.example.com"/>
                    </Field>
                    <Field label="Port" name="port" error=errors.message("port")>
                        <input id="port" type="text" inputmode="numeric" bind:value=port disabled=!admin/>
                    </Field>
                    <Field label="Security" name="security" error=errors.message("security")>
                        <select id="security" disabled=!admin prop:value=move || security.get() on:change=move |ev| security.set(event_target_value(&ev))>
                            <option value="starttls">"STARTTLS"</option>
                            <option value="tls">"TLS"</option>
                            <option value="none">"None"</option>
                        </select>
                    </Field>
                </div>
                <div class="field-row">
                    <Field label="User name (optional)" name="username" error=errors.message("username")>
                        <input id="username" type="text" autocomplete="off" bind:value=username disabled=!admin/>
                    </Field>
                    <Field
                        label="Password"
                        name="password"
                        error=errors.message("password")
                        hint=if has_password { "A password is stored (encrypted). Leave empty to keep it." } else { "Stored encrypted; never shown again." }
                    >
                        <input id="password" type="password" autocomplete="new-password" bind:value=password disabled=!admin/>
                    </Field>
                </div>
                <Field label="From address" name="from" error=errors.message("from") hint="For example: Bulwark <security@example.com>">
                    <input id="from" type="text" bind:value=from disabled=!admin/>
                </Field>
                <FormError message=form_error/>
                {admin.then(|| view! {
                    <div class="form-actions">
                        {settings.smtp.is_some().then(|| view! {
                            <button class="btn" type="button" on:click=move |_| { remove.dispatch(RemoveSmtpSettings {}); }>"Remove server"</button>
                        })}
                        <button class="btn btn-primary" type="submit" disabled=move || save.pending().get()>"Save SMTP server"</button>
                    </div>
                })}
            </form>
        </section>
    }
}

#[component]
fn TestEmailCard(test: ServerAction<SendTestEmail>) -> impl IntoView {
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = test.value().get() {
            form_error.set(errors.absorb(&result));
            if let Ok(reply) = result {
                toaster.success(format!("Test email sent. {reply}"));
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Send test email"</h2>
            <ActionForm action=test attr:class="inline-form" attr:novalidate=true>
                <Field label="To" name="to" error=errors.message("to")>
                    <input id="to" name="to" type="email" placeholder="you@example.com"/>
                </Field>
                <button class="btn btn-primary" type="submit" disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Sending…" } else { "Send test email" }}
                </button>
            </ActionForm>
            <FormError message=form_error/>
        </section>
    }
}

#[component]
fn OutboxTable(messages: Vec<OutboxMessage>) -> impl IntoView {
    view! {
        <div class="table-wrap">
                                    <table class="table dense" data-testid="outbox-table">
                                        <thead><tr><th>"Written"</th><th>"To"</th><th>"Subject"</th><th class="right">"Size"</th><th></th></tr></thead>
                                        <tbody>
                                            {rows_or_empty(messages, 5, "The outbox is empty.", |m| view! {
                                                <tr>
                                                    <td>{date_time(Some(m.at))}</td>
                                                    <td>{m.to}</td>
                                                    <td>{m.subject}</td>
                                                    <td class="right">{format!("{} KB", (m.size + 1023) / 1024)}</td>
                                                    <td class="right"><a href=format!("/settings/outbox/{}", m.id) rel="external" download>"Download .eml"</a></td>
                                                </tr>
                                            })}
                                        </tbody>
                                    </table>
                                </div>
    }
}
