// Browser notifications and an optional sound for new customer messages while the tab is hidden.
import type { Conversation, Message } from "../api/types";

const SOUND_KEY = "sb.sound";
const NOTIFY_KEY = "sb.notifications";

export function soundEnabled(): boolean {
  return localStorage.getItem(SOUND_KEY) === "on";
}
export function setSoundEnabled(on: boolean): void {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
}
export function notificationsWanted(): boolean {
  return localStorage.getItem(NOTIFY_KEY) !== "off";
}
export function setNotificationsWanted(on: boolean): void {
  localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
}

export async function askNotificationPermission(): Promise<NotificationPermission | "unsupported"> {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return Notification.requestPermission();
}

let audio: AudioContext | null = null;
function chime(): void {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.35);
  } catch {
    /* no audio */
  }
}

export function contactName(conversation: Pick<Conversation, "contact"> | undefined): string {
  const c = conversation?.contact;
  return c?.name || (c?.username ? `@${c.username}` : "") || c?.phone_number || "Customer";
}

export function notifyNewMessage(message: Message, conversation: Conversation | undefined): void {
  if (typeof document === "undefined" || !document.hidden) return;
  if (soundEnabled()) chime();
  if (!notificationsWanted() || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const body = message.text || `New ${message.kind.replace("_", " ")} message`;
  const notification = new Notification(contactName(conversation), { body, tag: `conversation-${message.conversation}` });
  notification.onclick = () => {
    window.focus();
    window.history.pushState({}, "", `/inbox/${message.conversation}`);
    window.dispatchEvent(new PopStateEvent("popstate"));
    notification.close();
  };
}
