// The AI assistant in a thread: the header's AI and Trusted switches, the handed-over banner with "Hand back to AI",
// the pause after an agent replied, and the contact's lead fields. All of it follows conversation.updated events
// (the cache holds one copy of the conversation, which the socket keeps current).
import { useEffect, useState } from "react";
import type { Conversation } from "../../api/types";
import { Icon } from "../../components/Icon";
import { useConversationActions } from "../inbox/actions";
import { errorMessage } from "../settings/common";
import { aiPausedLabel, leadFields } from "./assistant";

export function AssistantSwitches({ conversation, onError }: { conversation: Conversation; onError: (message: string | null) => void }) {
  const actions = useConversationActions();
  const change = (what: string, run: () => Promise<void>) => {
    onError(null);
    run().catch((error: unknown) => onError(`${what}: ${errorMessage(error)}`));
  };
  return (
    <>
      <Switch
        label="AI"
        name="AI assistant"
        title="Let the AI assistant answer this conversation"
        checked={conversation.ai_enabled}
        onChange={(on) => change("The AI switch could not be changed", () => actions.setAi(conversation, on))}
      />
      <Switch
        label="Trusted"
        name="Trusted contact"
        title="A trusted contact may be answered by the AI assistant"
        checked={conversation.contact.is_trusted}
        onChange={(on) => change("The contact could not be changed", () => actions.setTrusted(conversation, on))}
      />
    </>
  );
}

function Switch({ label, name, title, checked, onChange }: { label: string; name: string; title: string; checked: boolean; onChange: (on: boolean) => void }) {
  return (
    <label className="toggle" title={title}>
      <input type="checkbox" role="switch" aria-label={name} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}

/** Re-renders when `at` (epoch ms) passes, so a label that depends on the clock goes away by itself. */
function useRenderAt(at: number | null): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (at === null) return;
    const wait = at - Date.now();
    if (wait <= 0) return;
    // setTimeout takes at most 2^31-1 ms; a longer pause is re-armed when the component renders again.
    const timer = window.setTimeout(() => setTick((t) => t + 1), Math.min(wait + 50, 2 ** 31 - 1));
    return () => window.clearTimeout(timer);
  }, [at]);
}

export function AssistantNotices({ conversation, error }: { conversation: Conversation; error: string | null }) {
  const actions = useConversationActions();
  const [handBackError, setHandBackError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const until = conversation.ai_paused_until ? Date.parse(conversation.ai_paused_until) : NaN;
  useRenderAt(Number.isNaN(until) ? null : until);
  const paused = aiPausedLabel(conversation.ai_paused_until);
  const handBack = () => {
    setBusy(true);
    setHandBackError(null);
    actions
      .handBack(conversation)
      .catch((e: unknown) => setHandBackError(`It could not be handed back: ${errorMessage(e)}`))
      .finally(() => setBusy(false));
  };
  return (
    <>
      {error && (
        <div className="window-note" role="alert">
          {error}
        </div>
      )}
      {conversation.needs_human && (
        <div className="handoff-banner" role="region" aria-label="Handed over to a person" data-testid="needs-human-banner">
          <Icon name="alert" size={18} />
          <div className="handoff-text">
            <strong>Needs a human.</strong> {conversation.needs_human_reason || "The AI assistant handed this conversation over."}
            {handBackError && (
              <span className="error" role="alert">
                {" "}
                {handBackError}
              </span>
            )}
          </div>
          <button type="button" className="btn small" disabled={busy} onClick={handBack}>
            <Icon name="ai" size={14} /> Hand back to AI
          </button>
        </div>
      )}
      {paused && !conversation.needs_human && (
        <div className="ai-paused" data-testid="ai-paused">
          <Icon name="clock" size={14} />
          <span role="status">{paused}</span>
          {handBackError && (
            <span className="error" role="alert">
              {handBackError}
            </span>
          )}
          <button type="button" className="btn small ghost" disabled={busy} onClick={handBack} title="The assistant answers the customer's next message again">
            Hand back to AI now
          </button>
        </div>
      )}
    </>
  );
}

export function LeadFields({ conversation }: { conversation: Conversation }) {
  const fields = leadFields(conversation.contact.attributes);
  return (
    <section className="lead-fields" aria-labelledby="lead-fields-title">
      <h3 id="lead-fields-title">Lead</h3>
      {fields.length ? (
        <dl className="kv" data-testid="lead-fields">
          {fields.map((field) => (
            <div key={field.key}>
              <dt>{field.label}</dt>
              <dd>{field.value}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted small">No lead details yet: the assistant fills them in as the customer tells it.</p>
      )}
    </section>
  );
}
