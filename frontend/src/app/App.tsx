import { QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";
import { AcceptInvitePage, LoginPage, SignupPage } from "../features/auth/AuthPages";
import { InboxPage } from "../features/inbox/InboxPage";
import { AuthProvider, useAuth } from "./auth";
import { makeQueryClient } from "./queryClient";
import { Shell } from "./Shell";

const SettingsPage = lazy(() => import("../features/settings/SettingsPage"));

function RequireAuth() {
  const { tokens } = useAuth();
  const location = useLocation();
  if (!tokens) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

function Loading() {
  return (
    <div className="page-loading" role="status">
      Loading…
    </div>
  );
}

function Root() {
  return (
    <AuthProvider>
      <Outlet />
    </AuthProvider>
  );
}

const router = createBrowserRouter([
  {
    element: <Root />,
    children: [
      { path: "/login", element: <LoginPage /> },
      { path: "/signup", element: <SignupPage /> },
      { path: "/accept-invite", element: <AcceptInvitePage /> },
      {
        element: <RequireAuth />,
        children: [
          {
            element: <Shell />,
            children: [
              { index: true, element: <Navigate to="/inbox" replace /> },
              { path: "/inbox", element: <InboxPage /> },
              { path: "/inbox/:conversationId", element: <InboxPage /> },
              {
                path: "/settings/*",
                element: (
                  <Suspense fallback={<Loading />}>
                    <SettingsPage />
                  </Suspense>
                ),
              },
            ],
          },
        ],
      },
      { path: "*", element: <Navigate to="/inbox" replace /> },
    ],
  },
]);

export function App() {
  const [queryClient] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
