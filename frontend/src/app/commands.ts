// Actions the current screen offers to the command palette (and the keyboard help). Screens register them while
// mounted; the palette lists them with the navigation commands.
import { useEffect, useSyncExternalStore } from "react";

export type Command = { id: string; label: string; shortcut?: string; run: () => void; group?: string };

let commands: Command[] = [];
const listeners = new Set<() => void>();

function emit() {
  listeners.forEach((l) => l());
}

export function useRegisterCommands(list: Command[], deps: unknown[]): void {
  useEffect(() => {
    commands = [...commands.filter((c) => !list.some((n) => n.id === c.id)), ...list];
    emit();
    return () => {
      commands = commands.filter((c) => !list.some((n) => n.id === c.id));
      emit();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

export function useCommands(): Command[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => commands,
  );
}

/** Typing in a field: single-letter shortcuts stay out of the way. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}
