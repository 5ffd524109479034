//! Form fields with their validation message beside them.

use leptos::prelude::*;

use super::toast::use_toaster;
use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};

/// Field errors of a form, filled by browser-side `validate()` and by the server's answer.
#[derive(Clone, Copy)]
pub struct FormErrors(pub RwSignal<FieldErrors>);

impl FormErrors {
    pub fn new() -> Self {
        FormErrors(RwSignal::new(FieldErrors::new()))
    }

    pub fn message(&self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.0;
        Signal::derive(move || errors.with(|e| e.get(field).cloned()))
    }

    /// Takes a result: a validation error fills the fields; other errors go to `form` (the whole-form message).
    pub fn absorb<T>(&self, result: &Result<T, AppError>) -> Option<String> {
        match result {
            Ok(_) => {
                self.0.set(FieldErrors::new());
                None
            }
            Err(AppError::Validation(errors)) => {
                self.0.set(errors.clone());
                None
            }
            Err(other) => {
                self.0.set(FieldErrors::new());
                Some(other.to_string())
            }
        }
    }
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}

/// A labelled field; `children` is the input, whose `id` should equal `name`.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=name>{label}</label>
            {children()}
            {hint.map(|h| view! { <div class="field-hint">{h}</div> })}
            {move || error.get().map(|message| view! { <div class="field-error" role="alert" data-field=name>{message}</div> })}
        </div>
    }
}

/// A whole-form error (not tied to one field).
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <div class="form-error" role="alert">{m}</div> })
}

/// A labelled checkbox that puts `value` into the `selected` list or takes it out.
#[component]
pub fn SetCheckbox<T>(selected: RwSignal<Vec<T>>, value: T, #[prop(into)] label: String) -> impl IntoView
where
    T: PartialEq + Clone + Send + Sync + 'static,
{
    let checked_value = value.clone();
    view! {
        <label class="check">
            <input
                type="checkbox"
                prop:checked=move || selected.with(|l| l.contains(&checked_value))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    let value = value.clone();
                    selected.update(|l| {
                        l.retain(|x| *x != value);
                        if on {
                            l.push(value);
                        }
                    });
                }
            />
            {label}
        </label>
    }
}

/// Runs `then` with each new outcome of a form's action, after putting its field errors beside
/// the fields and any other error above the buttons; a success also toasts `success`.
pub fn watch_form<T: Clone + Send + Sync + 'static>(
    action: Action<impl Send + Sync + 'static, Result<T, AppError>>,
    errors: FormErrors,
    form_error: RwSignal<Option<String>>,
    success: &'static str,
    then: impl Fn(T) + 'static,
) {
    let toaster = use_toaster();
    Effect::new(move |previous: Option<()>| {
        let outcome = action.value().get();
        // The first run only subscribes: an outcome from before this page rendered is not news.
        let (Some(()), Some(result)) = (previous, outcome) else { return };
        form_error.set(errors.absorb(&result));
        if let Ok(value) = result {
            toaster.success(success);
            then(value);
        }
    });
}

/// Checks `problems` in the browser: dispatches when there are none, shows them otherwise.
pub fn submit_checked<I: Clone + Send + Sync + 'static, O: Send + Sync + 'static>(
    action: Action<I, O>,
    input: I,
    problems: FieldErrors,
    errors: FormErrors,
    form_error: RwSignal<Option<String>>,
) {
    if problems.is_empty() {
        action.dispatch(input);
    } else {
        errors.0.set(problems);
        // In the reader's language (English where no language is provided, as in unit tests).
        let locale = use_context::<leptos_i18n::I18nContext<Locale>>().map(|i18n| i18n.get_locale_untracked()).unwrap_or(Locale::en);
        form_error.set(Some(td_string!(locale, assets.ui.fields_need_attention).into()));
    }
}
