import { useState } from "react";
import { initials } from "../lib/format";

const COLORS = ["#2348c4", "#8a3ffc", "#0f766e", "#b4460b", "#be185d", "#1d4ed8", "#4d7c0f"];

export function Avatar({ name, url, size = 40 }: { name: string; url?: string | null; size?: number }) {
  const [broken, setBroken] = useState(false);
  const color = COLORS[[...name].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % COLORS.length];
  if (url && !broken) {
    return (
      <img className="avatar" src={url} alt="" width={size} height={size} onError={() => setBroken(true)} loading="lazy" />
    );
  }
  return (
    <span className="avatar" style={{ width: size, height: size, background: color, fontSize: size * 0.38 }} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
