import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { Icon } from "../../components/Icon";

/** Full-size photos: arrows to move, click or Z to zoom, Escape to close. */
export function Lightbox({ images, start, onClose }: { images: { src: string; alt: string }[]; start: number; onClose: () => void }) {
  const [index, setIndex] = useState(start);
  const [zoom, setZoom] = useState(false);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
      else if (e.key === "ArrowRight") setIndex((i) => Math.min(images.length - 1, i + 1));
      else if (e.key === "ArrowLeft") setIndex((i) => Math.max(0, i - 1));
      else if (e.key.toLowerCase() === "z") setZoom((z) => !z);
      else return;
      e.stopPropagation();
    };
    window.addEventListener("keydown", onKey, true);
    return () => {
      window.removeEventListener("keydown", onKey, true);
      previous?.focus();
    };
  }, [images.length, onClose]);
  const image = images[index];
  if (!image) return null;
  return createPortal(
    <div className="lightbox" role="dialog" aria-modal="true" aria-label="Photo viewer" onClick={onClose}>
      <div className="lightbox-bar" onClick={(e) => e.stopPropagation()}>
        <span>
          {index + 1} / {images.length}
        </span>
        <button type="button" className="btn small" onClick={() => setZoom((z) => !z)} aria-pressed={zoom}>
          {zoom ? "Fit" : "Zoom"}
        </button>
        <a className="btn small" href={image.src} target="_blank" rel="noopener noreferrer">
          Open original
        </a>
        <button ref={closeRef} type="button" className="btn small" onClick={onClose} aria-label="Close photo viewer">
          <Icon name="close" size={16} />
        </button>
      </div>
      <div className={`lightbox-stage${zoom ? " zoomed" : ""}`} onClick={(e) => e.stopPropagation()}>
        <img src={image.src} alt={image.alt} onClick={() => setZoom((z) => !z)} />
      </div>
      {images.length > 1 && (
        <div className="lightbox-nav" onClick={(e) => e.stopPropagation()}>
          <button type="button" className="btn small" disabled={index === 0} onClick={() => setIndex(index - 1)}>
            Previous
          </button>
          <button type="button" className="btn small" disabled={index === images.length - 1} onClick={() => setIndex(index + 1)}>
            Next
          </button>
        </div>
      )}
    </div>,
    document.body,
  );
}
