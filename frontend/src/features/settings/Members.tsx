import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { createInvitation, listInvitations, listMembers, removeMember, resendInvitation, revokeInvitation, updateMember } from "../../api/endpoints";
import type { Role } from "../../api/types";
import { canManage, useAuth } from "../../app/auth";
import { fullTime } from "../../lib/format";
import { qk } from "../../state/keys";
import { ErrorText, Section, TextInput } from "./common";

const ROLES: Role[] = ["owner", "admin", "agent"];

export function MembersSettings() {
  const { role, me } = useAuth();
  const manage = canManage(role);
  const qc = useQueryClient();
  const members = useQuery({ queryKey: qk.members, queryFn: listMembers });
  const invitations = useQuery({ queryKey: qk.invitations, queryFn: listInvitations, enabled: manage });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: qk.members });
    void qc.invalidateQueries({ queryKey: qk.invitations });
  };
  const changeRole = useMutation({ mutationFn: ({ id, role }: { id: number; role: Role }) => updateMember(id, role), onSettled: refresh });
  const remove = useMutation({ mutationFn: removeMember, onSettled: refresh });
  const invite = useMutation({ mutationFn: ({ email, role }: { email: string; role: Role }) => createInvitation(email, role), onSuccess: refresh });
  const revoke = useMutation({ mutationFn: revokeInvitation, onSettled: refresh });
  const resend = useMutation({ mutationFn: resendInvitation, onSettled: refresh });

  return (
    <>
      <Section title="Members">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members.data ?? []).map((m) => (
              <tr key={m.id}>
                <td>{m.full_name || "—"}</td>
                <td>{m.email}</td>
                <td>
                  {manage && m.user_id !== me?.id ? (
                    <>
                      <label className="visually-hidden" htmlFor={`role-${m.id}`}>
                        Role of {m.email}
                      </label>
                      <select id={`role-${m.id}`} value={m.role} onChange={(e) => changeRole.mutate({ id: m.id, role: e.target.value as Role })}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </>
                  ) : (
                    m.role
                  )}
                </td>
                <td>
                  {manage && m.user_id !== me?.id && (
                    <button type="button" className="btn small danger" onClick={() => confirm(`Remove ${m.email}?`) && remove.mutate(m.id)}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <ErrorText error={members.error ?? changeRole.error ?? remove.error} />
      </Section>
      {manage && (
        <Section title="Invitations">
          <form
            className="form-grid inline"
            onSubmit={(e: FormEvent<HTMLFormElement>) => {
              e.preventDefault();
              const form = new FormData(e.currentTarget);
              invite.mutate({ email: String(form.get("email")), role: String(form.get("role")) as Role }, { onSuccess: () => (e.target as HTMLFormElement).reset() });
            }}
          >
            <TextInput label="Email" name="email" type="email" required />
            <div className="field">
              <label htmlFor="invite-role">Role</label>
              <select id="invite-role" name="role" defaultValue="agent">
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <div className="form-actions">
              <button type="submit" className="btn primary" disabled={invite.isPending}>
                Invite
              </button>
            </div>
          </form>
          <ErrorText error={invite.error ?? revoke.error ?? resend.error} />
          {invite.isSuccess && <p role="status">Invitation sent.</p>}
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(invitations.data ?? []).map((inv) => (
                <tr key={inv.id}>
                  <td>{inv.email}</td>
                  <td>{inv.role}</td>
                  <td>{inv.status}</td>
                  <td>{inv.expires_at ? fullTime(inv.expires_at) : "—"}</td>
                  <td className="row-actions">
                    {(inv.status === "pending" || inv.status === "expired") && (
                      <button type="button" className="btn small" onClick={() => resend.mutate(inv.id)}>
                        Resend
                      </button>
                    )}
                    {inv.status === "pending" && (
                      <button type="button" className="btn small danger" onClick={() => revoke.mutate(inv.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {invitations.data?.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    No invitations.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </Section>
      )}
    </>
  );
}
