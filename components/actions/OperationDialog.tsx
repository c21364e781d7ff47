"use client";

import { useEffect, useId, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { Plan } from "@/lib/ops/types";
import { Button } from "./Button";
import { Dialog } from "./Dialog";
import { PlanView } from "./PlanView";
import { RefusalView } from "./RefusalView";
import { SnapshotForm, type SnapshotFields } from "./SnapshotForm";
import { planOperation, readableError, startOperation } from "./operation-client";
import {
  confirmLabel,
  isDestructive,
  requestTitle,
  requestToStart,
  type OperationRequest,
} from "./operation-request";

/** What opened the dialog: a ready request, or the snapshot form that makes one. */
export type OperationIntent = { request: OperationRequest } | { snapshotOf: string };

export interface StartedJob {
  jobId: string;
  plan: Plan;
}

interface OperationDialogProps {
  disk: string;
  intent: OperationIntent;
  /** Names already used in the disk, so the snapshot form can say so before asking the server. */
  layerNames: ReadonlySet<string>;
  onClose: () => void;
  onStarted: (job: StartedJob) => void;
}

/**
 * Plan first, run second: the dialog asks the planner what the operation would do and shows it (or the
 * refusal and its safe alternative); only the confirm button queues the job.
 */
export function OperationDialog({ disk, intent, layerNames, onClose, onStarted }: OperationDialogProps) {
  const formId = useId();
  const [request, setRequest] = useState<OperationRequest | null>("request" in intent ? intent.request : null);
  // The refused request the admin came from, so "Back" can return to its explanation.
  const [refusedFrom, setRefusedFrom] = useState<OperationRequest | null>(null);
  const [fields, setFields] = useState<SnapshotFields>({ name: "", description: "" });

  const planQuery = useQuery({
    queryKey: ["plan", disk, request],
    queryFn: () => planOperation(disk, request!),
    enabled: request !== null,
    // A plan describes the tree right now: never reuse one from an earlier opening of the dialog.
    gcTime: 0,
    staleTime: Infinity,
    retry: false,
  });
  const plan = request ? planQuery.data : undefined;

  // The button that asked for a new plan (the alternative, Back) is gone once it arrives: move focus to the
  // dialog's main button rather than leaving it on the page body.
  const mainButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (plan && (document.activeElement === document.body || document.activeElement === null)) mainButton.current?.focus();
  }, [plan]);

  const start = useMutation({
    mutationFn: (args: { request: OperationRequest; plan: Plan }) =>
      startOperation(disk, requestToStart(args.request, args.plan)),
    onSuccess: (jobId, args) => onStarted({ jobId, plan: args.plan }),
  });

  const title = request ? requestTitle(request) : "Take a snapshot";
  const subtitle = refusedFrom ? (
    <>Safe alternative to: {requestTitle(refusedFrom)}</>
  ) : (
    <>
      Disk <span className="font-mono">{disk}</span>. Nothing runs until you confirm the plan.
    </>
  );

  const showForm = request === null && "snapshotOf" in intent;
  let body;
  if (showForm) {
    body = (
      <SnapshotForm
        formId={formId}
        active={intent.snapshotOf}
        initial={fields}
        takenNames={layerNames}
        onSubmit={(f) => {
          setFields(f);
          setRequest({ operation: "snapshot", name: f.name, description: f.description || undefined });
        }}
      />
    );
  } else if (planQuery.isPending) {
    body = <PlanLoading />;
  } else if (planQuery.isError) {
    body = (
      <div role="alert" className="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm" data-testid="plan-error">
        <div className="font-semibold text-red-800">Could not plan this operation</div>
        <p className="mt-1 text-red-900">{readableError(planQuery.error)}</p>
      </div>
    );
  } else if (plan?.refused) {
    body = (
      <RefusalView
        plan={{ ...plan, refused: plan.refused }}
        onUseAlternative={(alt) => {
          setRefusedFrom(request);
          setRequest(alt);
        }}
      />
    );
  } else if (plan) {
    body = (
      <>
        <PlanView plan={plan} />
        {start.isError ? (
          <p role="alert" className="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200" data-testid="start-error">
            Not started: {readableError(start.error)}
          </p>
        ) : null}
      </>
    );
  }

  const back = refusedFrom ? (
    <Button
      variant="ghost"
      className="mr-auto"
      onClick={() => {
        setRequest(refusedFrom);
        setRefusedFrom(null);
      }}
    >
      ← Back
    </Button>
  ) : request?.operation === "snapshot" ? (
    <Button variant="ghost" className="mr-auto" onClick={() => setRequest(null)}>
      ← Edit
    </Button>
  ) : null;

  const footer = (
    <>
      {back}
      <Button onClick={onClose} ref={plan?.refused ? mainButton : undefined}>
        {plan?.refused ? "Close" : "Cancel"}
      </Button>
      {showForm ? (
        <Button variant="primary" type="submit" form={formId}>
          Preview plan
        </Button>
      ) : planQuery.isError ? (
        <Button variant="primary" onClick={() => void planQuery.refetch()}>
          Plan again
        </Button>
      ) : plan?.refused ? null : (
        <Button
          ref={mainButton}
          variant={plan && isDestructive(plan) ? "danger" : "primary"}
          disabled={!plan || start.isPending}
          onClick={() => request && plan && start.mutate({ request, plan })}
          data-testid="confirm-operation"
        >
          {start.isPending ? "Starting…" : !plan ? "Planning…" : confirmLabel(request!)}
        </Button>
      )}
    </>
  );

  return (
    <Dialog title={title} subtitle={subtitle} onClose={onClose} footer={footer} testId="operation-dialog">
      {body}
    </Dialog>
  );
}

function PlanLoading() {
  return (
    <div className="flex items-center gap-3 py-6 text-sm text-slate-600" role="status">
      <span className="size-4 animate-spin rounded-full border-2 border-slate-300 border-t-sky-600" aria-hidden="true" />
      Asking the planner what this would do (it reads the layers&apos; maps)…
    </div>
  );
}
