import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import "./styles.css";

// First inbox render is measured by the end-to-end run (PERF.md): `performance.mark("sb:inbox-rendered")`.
performance.mark("sb:boot");
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
