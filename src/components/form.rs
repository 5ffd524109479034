//! Form fields with their validation message beside them.

use leptos::prelude::*;

use crate::error::{AppError, FieldErrors};

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
