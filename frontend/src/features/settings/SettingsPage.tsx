import { NavLink, Navigate, Route, Routes } from "react-router";
import { AccountsSettings } from "./Accounts";
import { AssistantSettingsPage } from "./Assistant";
import { ListingsSettings } from "./Listings";
import { MembersSettings } from "./Members";
import { PreferencesSettings } from "./Preferences";

export default function SettingsPage() {
  return (
    <div className="settings">
      <nav className="settings-nav" aria-label="Settings">
        <h1>Settings</h1>
        <NavLink to="/settings/accounts">Platform accounts</NavLink>
        <NavLink to="/settings/members">Members and roles</NavLink>
        <NavLink to="/settings/listings">Listings</NavLink>
        <NavLink to="/settings/assistant">AI assistant</NavLink>
        <NavLink to="/settings/preferences">Notifications and profile</NavLink>
      </nav>
      <div className="settings-body">
        <Routes>
          <Route index element={<Navigate to="accounts" replace />} />
          <Route path="accounts" element={<AccountsSettings />} />
          <Route path="members" element={<MembersSettings />} />
          <Route path="listings" element={<ListingsSettings />} />
          <Route path="listings/:listingId" element={<ListingsSettings />} />
          <Route path="assistant" element={<AssistantSettingsPage />} />
          <Route path="preferences" element={<PreferencesSettings />} />
        </Routes>
      </div>
    </div>
  );
}
