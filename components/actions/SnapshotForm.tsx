"use client";

import { useId, useState, type FormEvent } from "react";

/** Same alphabet the server enforces (lib/inventory/names.ts), checked here too so typos show at once. */
const NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}";

export interface SnapshotFields {
  name: string;
  description: string;
}

interface SnapshotFormProps {
  formId: string;
  active: string;
  initial: SnapshotFields;
  takenNames: ReadonlySet<string>;
  onSubmit: (fields: SnapshotFields) => void;
}

/** Name and description of a new snapshot. Submitting only plans it; nothing runs until the plan is confirmed. */
export function SnapshotForm({ formId, active, initial, takenNames, onSubmit }: SnapshotFormProps) {
  const [name, setName] = useState(initial.name);
  const [description, setDescription] = useState(initial.description);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const descId = useId();
  const errorId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!new RegExp(`^${NAME_PATTERN}$`).test(trimmed) || trimmed.includes("..")) {
      setError('Use letters, digits, ".", "_" and "-" (no spaces or slashes), starting with a letter or digit.');
      return;
    }
    if (takenNames.has(trimmed)) {
      setError(`This disk already has a layer named ${trimmed}.`);
      return;
    }
    setError(null);
    onSubmit({ name: trimmed, description: description.trim() });
  };

  return (
    <form id={formId} onSubmit={submit} noValidate className="space-y-4 text-sm" data-testid="snapshot-form">
      <p className="text-slate-700">
        Freezes <span className="font-mono font-semibold">{active}</span> as it is now and puts a new, empty layer on
        it; the VM writes there from then on. The new layer carries the snapshot&apos;s name.
      </p>
      <div>
        <label htmlFor={nameId} className="block font-medium text-slate-800">
          Name
        </label>
        <input
          id={nameId}
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          data-autofocus
          autoComplete="off"
          spellCheck={false}
          pattern={NAME_PATTERN}
          maxLength={128}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          placeholder="before-upgrade"
          className="mt-1 w-full rounded-md border border-slate-300 px-2.5 py-1.5 font-mono text-sm focus:border-sky-600 focus:outline-2 focus:outline-sky-600/30"
        />
        {error ? (
          <p id={errorId} role="alert" className="mt-1 text-red-700">
            {error}
          </p>
        ) : null}
      </div>
      <div>
        <label htmlFor={descId} className="block font-medium text-slate-800">
          Description <span className="font-normal text-slate-500">(optional)</span>
        </label>
        <textarea
          id={descId}
          name="description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          rows={3}
          maxLength={2000}
          placeholder="What state the disk is in, and why you keep it"
          className="mt-1 w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm focus:border-sky-600 focus:outline-2 focus:outline-sky-600/30"
        />
      </div>
    </form>
  );
}
