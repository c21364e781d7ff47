"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** "danger" for things that cannot be undone. */
  tone?: "danger" | "primary";
  busy?: boolean;
  /** The confirm button cannot be used (e.g. the action is refused), without the "Working…" of busy. */
  disabled?: boolean;
  /** The safe button's label ("Keep it" by default). */
  cancelLabel?: string;
  /** Shown above the buttons when the confirmed action failed. */
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}

/**
 * "Are you sure?" on the native <dialog>: showModal() makes the page behind inert, Escape closes, and focus
 * starts on the safe button and returns to the opener afterwards.
 */
export function ConfirmDialog({ title, children, confirmLabel, tone = "danger", busy, disabled, cancelLabel = "Keep it", error, onConfirm, onClose }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => {
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const confirmClass =
    tone === "danger" ? "bg-red-600 text-white hover:bg-red-700" : "bg-sky-700 text-white hover:bg-sky-800";
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      data-testid="confirm-dialog"
      className="m-auto w-full max-w-md rounded-xl bg-white p-0 text-left text-slate-900 shadow-xl ring-1 ring-slate-900/10 backdrop:bg-slate-900/40"
    >
      <div className="px-5 pb-4 pt-5">
        <h2 id={titleId} className="text-base font-semibold">
          {title}
        </h2>
        <div className="mt-2 text-sm text-slate-600">{children}</div>
        {error ? (
          <p role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {error}
          </p>
        ) : null}
      </div>
      <div className="flex justify-end gap-2 rounded-b-xl border-t border-slate-200 bg-slate-50 px-5 py-3">
        <button
          type="button"
          autoFocus
          onClick={onClose}
          className="rounded-md bg-white px-3 py-1.5 text-sm font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
        >
          {cancelLabel}
        </button>
        <button
          type="button"
          onClick={onConfirm}
          disabled={busy || disabled}
          className={`rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 ${busy ? "disabled:cursor-wait" : "disabled:cursor-not-allowed"} disabled:opacity-60 ${confirmClass}`}
        >
          {busy ? "Working…" : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
