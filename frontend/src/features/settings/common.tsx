import { useState, type ReactNode } from "react";
import { ApiError } from "../../api/http";
import { Icon } from "../../components/Icon";

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.body.errors
      ? Object.entries(error.body.errors).map(([k, v]) => (k === "non_field_errors" ? v.join(" ") : `${k}: ${v.join(" ")}`))
      : [];
    return fields.length ? fields.join(" ") : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {errorMessage(error)}
    </p>
  );
}

export function Section({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="settings-section" aria-labelledby={`h-${title}`}>
      <div className="section-head">
        <h2 id={`h-${title}`}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const id = `copy-${label.replace(/\W+/g, "-")}-${value.length}`;
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={value} onFocus={(e) => e.target.select()} />
        <button
          type="button"
          className="btn small"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
            setTimeout(() => setCopied(false), 1500);
          }}
          aria-label={`Copy ${label}`}
        >
          <Icon name="copy" size={14} /> {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

export function TextInput(props: { label: string; name: string; defaultValue?: string | number | null; type?: string; required?: boolean; placeholder?: string; help?: string; autoComplete?: string }) {
  const id = `in-${props.name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        defaultValue={props.defaultValue ?? ""}
        required={props.required}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? "off"}
        aria-describedby={props.help ? `${id}-help` : undefined}
      />
      {props.help && (
        <span id={`${id}-help`} className="help">
          {props.help}
        </span>
      )}
    </div>
  );
}
