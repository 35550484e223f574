import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { updateMe } from "../../api/endpoints";
import { useAuth } from "../../app/auth";
import { askNotificationPermission, notificationsWanted, setNotificationsWanted, setSoundEnabled, soundEnabled } from "../../app/notify";
import { qk } from "../../state/keys";
import { ErrorText, Section, TextInput } from "./common";

export function PreferencesSettings() {
  const { me } = useAuth();
  const qc = useQueryClient();
  const [sound, setSound] = useState(soundEnabled());
  const [notify, setNotify] = useState(notificationsWanted());
  const [permission, setPermission] = useState(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  const save = useMutation({ mutationFn: updateMe, onSuccess: () => qc.invalidateQueries({ queryKey: qk.me }) });
  return (
    <>
      <Section title="Notifications">
        <p className="muted">New customer messages notify you while Switchboard is in a background tab.</p>
        <label className="check">
          <input
            type="checkbox"
            checked={notify}
            onChange={(e) => {
              setNotify(e.target.checked);
              setNotificationsWanted(e.target.checked);
              if (e.target.checked) void askNotificationPermission().then(setPermission);
            }}
          />
          Browser notifications
        </label>
        <p className="muted small">Browser permission: {permission}.</p>
        {permission === "default" && (
          <button type="button" className="btn small" onClick={() => void askNotificationPermission().then(setPermission)}>
            Allow notifications
          </button>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={sound}
            onChange={(e) => {
              setSound(e.target.checked);
              setSoundEnabled(e.target.checked);
            }}
          />
          Play a sound
        </label>
      </Section>
      <Section title="Profile">
        <form
          className="form-grid"
          onSubmit={(e: FormEvent<HTMLFormElement>) => {
            e.preventDefault();
            save.mutate(String(new FormData(e.currentTarget).get("full_name") ?? ""));
          }}
        >
          <TextInput label="Your name" name="full_name" defaultValue={me?.full_name} autoComplete="name" />
          <div className="field">
            <span className="label">Email</span>
            <span>{me?.email}</span>
          </div>
          <div className="form-actions">
            <button className="btn primary" type="submit" disabled={save.isPending}>
              Save
            </button>
            {save.isSuccess && <span role="status">Saved.</span>}
          </div>
          <ErrorText error={save.error} />
        </form>
      </Section>
    </>
  );
}
