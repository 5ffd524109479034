//! The Users tab: the account's users, their roles, and adding or removing them.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::auth::model::{NewUser, Role, UserList};
use crate::components::form::{Field, FormError, FormErrors};
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::toast::use_toaster;
use crate::locale::{td_string, tr, use_i18n};
use super::on_done;
use crate::locale::fill;
use crate::components::tabs::SettingsTabs;

#[component]
pub fn UsersSettingsPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || (add.version().get(), set_role.version().get(), remove.version().get()),
        |_| list_users(),
    );
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    on_done(move || set_role.value().get(), td_string!(locale, settings.users.role_changed), false);
    on_done(move || remove.value().get(), td_string!(locale, settings.users.removed), false);
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
                toaster.success(td_string!(i18n.get_locale_untracked(), settings.users.added));
                email.set(String::new());
                name.set(String::new());
                password.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = NewUser { email: email.get(), name: name.get(), role: role.get(), password: password.get() };
        match user.validate(i18n.get_locale_untracked()) {
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
            <h2>{tr(i18n, |l| td_string!(l, settings.users.title))}</h2>
            <ConfirmDialog
                asking=removing
                title=td_string!(locale, settings.users.remove_user)
                question=|email| fill(td_string!(use_i18n().get_locale(), settings.users.remove_question), &[("email", email)])
                confirm_label=td_string!(locale, settings.users.remove_user)
                on_confirm=Callback::new(move |id| {
                    remove.dispatch(RemoveUser { id });
                })
            />
            <Loaded resource=users loading=td_string!(locale, settings.users.loading) render=move |list: UserList| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="user-table">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, settings.users.email))}</th>
                            <th>{tr(i18n, |l| td_string!(l, settings.users.name))}</th>
                            <th>{tr(i18n, |l| td_string!(l, settings.users.role))}</th>
                            <th>{tr(i18n, |l| td_string!(l, settings.users.added_at))}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>
                            {list.users.into_iter().map(|u| {
                                let manageable = list.can_manage && u.id != list.you;
                                let asked = (u.id, u.email.clone());
                                let id = u.id;
                                let email = u.email.clone();
                                view! {
                                    <tr>
                                        <td>{u.email.clone()}{(u.id == list.you).then(|| view! { <span class="muted">{tr(i18n, |l| td_string!(l, settings.users.you))}</span> })}</td>
                                        <td>{u.name}</td>
                                        <td>
                                            <select
                                                aria-label=move || fill(td_string!(i18n.get_locale(), settings.users.role_of), &[("email", &email)])
                                                disabled=!manageable
                                                on:change=move |ev| {
                                                    set_role.dispatch(SetUserRole { id, role: event_target_value(&ev) });
                                                }
                                            >
                                                {Role::ALL.iter().map(|r| view! {
                                                    <option value=r.as_str() selected=*r == u.role>{move || r.label_in(i18n.get_locale())}</option>
                                                }).collect_view()}
                                            </select>
                                        </td>
                                        <td>{date_time(Some(u.created_at))}</td>
                                        <td class="right">
                                            {manageable.then(|| view! { <AskButton asking=removing item=asked label=td_string!(i18n.get_locale_untracked(), settings.users.remove)/> })}
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
            <h2>{tr(i18n, |l| td_string!(l, settings.users.add_title))}</h2>
            <form class="form" on:submit=submit novalidate>
                <Field label=td_string!(locale, settings.users.email) name="email" error=errors.message("email")>
                    <input id="email" type="email" autocomplete="off" bind:value=email/>
                </Field>
                <Field label=td_string!(locale, settings.users.name) name="name" error=errors.message("name")>
                    <input id="name" type="text" bind:value=name/>
                </Field>
                <Field label=td_string!(locale, settings.users.role) name="role" error=errors.message("role")>
                    <select id="role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=role>
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str()>{move || r.label_in(i18n.get_locale())}</option> }).collect_view()}
                    </select>
                </Field>
                <Field label=td_string!(locale, settings.users.initial_password) name="password" error=errors.message("password") hint=td_string!(locale, settings.users.password_hint)>
                    <input id="password" type="password" autocomplete="new-password" bind:value=password/>
                </Field>
                <FormError message=form_error/>
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit" disabled=move || add.pending().get()>
                        {move || if add.pending().get() { td_string!(i18n.get_locale(), settings.users.adding) } else { td_string!(i18n.get_locale(), settings.users.add) }}
                    </button>
                </div>
            </form>
        </section>
    }
}
