//! A confirmation dialog for destructive actions.

use leptos::prelude::*;

/// Shown while `open` is true; Confirm runs `on_confirm` and closes, Cancel or Escape close.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    title: &'static str,
    #[prop(into)] message: Signal<String>,
    confirm_label: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let close = move || open.set(false);
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-label=title
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <div class="modal-header">
                        <h2>{title}</h2>
                    </div>
                    <div class="modal-body">
                        <p>{move || message.get()}</p>
                    </div>
                    <div class="modal-footer">
                        <button class="btn" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button
                            class="btn btn-danger"
                            type="button"
                            autofocus
                            on:click=move |_| {
                                close();
                                on_confirm.run(());
                            }
                        >
                            {confirm_label}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
