//! Toasts: short-lived feedback after an action.

use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Clone)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

#[derive(Clone, Copy)]
pub struct Toaster {
    toasts: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toaster {
    pub fn show(&self, kind: ToastKind, message: impl Into<String>) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.toasts.update(|t| t.push(Toast { id, kind, message: message.into() }));
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|toast| toast.id != id)),
            std::time::Duration::from_secs(5),
        );
    }

    pub fn success(&self, message: impl Into<String>) {
        self.show(ToastKind::Success, message);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.show(ToastKind::Error, message);
    }
}

pub fn provide_toaster() -> Toaster {
    let toaster = Toaster { toasts: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) };
    provide_context(toaster);
    toaster
}

pub fn use_toaster() -> Toaster {
    expect_context::<Toaster>()
}

#[component]
pub fn ToastStack() -> impl IntoView {
    let toaster = use_toaster();
    view! {
        <div class="toast-stack" aria-live="polite">
            <For each=move || toaster.toasts.get() key=|t| t.id let:toast>
                <div
                    class="toast"
                    class:toast-success=toast.kind == ToastKind::Success
                    class:toast-error=toast.kind == ToastKind::Error
                    role="status"
                >
                    {toast.message}
                </div>
            </For>
        </div>
    }
}

/// Toasts an action's outcome when it arrives: `success` (then runs `then`), or the error.
/// Field errors are left to the form, which shows them beside their fields. An outcome already
/// present when the caller was built is not repeated, so a component rebuilt when its data
/// reloads does not toast again.
pub fn toast_outcome<T: 'static>(
    value: impl Fn() -> Option<Result<T, crate::error::AppError>> + 'static,
    success: &'static str,
    then: impl Fn() + 'static,
) {
    use crate::error::AppError;
    let toaster = use_toaster();
    let i18n = crate::locale::use_i18n();
    Effect::new(move |seen: Option<()>| {
        let outcome = value();
        if seen.is_some() {
            match outcome {
                Some(Ok(_)) => {
                    toaster.success(success);
                    then();
                }
                Some(Err(AppError::Validation(_))) | None => {}
                Some(Err(e)) => toaster.error(e.message_in(i18n.get_locale_untracked())),
            }
        }
    });
}
