import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import type { Attachment, Message } from "../../api/types";
import parsed from "../../test/fixtures/parsed-payloads.json";
import { message } from "../../test/factories";
import { MessageView } from "./MessageView";

type Parsed = { fixture: string; text: string; payload: Record<string, unknown>; attachments: { kind: string; mime_type: string; filename: string }[] };
const fixtures = parsed as Record<string, Parsed[]>;
/** A message as the backend stores it from a real webhook fixture (backend/switchboard/<platform>/tests/fixtures). */
function fromFixture(kind: string, fixture: string, extra: Partial<Message> = {}): Message {
  const found = fixtures[kind].find((f) => f.fixture === fixture);
  if (!found) throw new Error(`no ${kind} from ${fixture}`);
  const attachments: Attachment[] = found.attachments.map((a, i) => ({
    id: i + 1,
    kind: a.kind as Attachment["kind"],
    mime_type: a.mime_type,
    filename: a.filename,
    caption: "",
    status: "stored",
    error: "",
    size: 2048,
    width: 640,
    height: 480,
    url: `/api/media/${i + 1}/?sig=x`,
    thumbnail_url: a.kind === "image" ? `/api/media/${i + 1}/?sig=x&thumb=1` : null,
    media_id: null,
    source_kind: "url",
  }));
  return message({ kind: kind as Message["kind"], text: found.text, payload: found.payload, attachments, ...extra });
}

function renderWithQuery(ui: ReactNode, qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  return render(<QueryClientProvider client={qc}>{ui}</QueryClientProvider>);
}

describe("every message kind renders as the agent expects", () => {
  it("text with links", () => {
    renderWithQuery(<MessageView message={message({ text: "See https://example.com/flat-12 and www.example.org" })} />);
    expect(screen.getByRole("link", { name: "https://example.com/flat-12" })).toHaveAttribute("href", "https://example.com/flat-12");
    expect(screen.getByRole("link", { name: "www.example.org" })).toHaveAttribute("href", "https://www.example.org");
  });

  it("forwarded text and a click-to-WhatsApp ad referral", () => {
    renderWithQuery(<MessageView message={fromFixture("text", "cloud__text__forwarded.json")} />);
    expect(screen.getByText("Forwarded many times")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("text", "cloud__text__click_to_whatsapp_ad.json")} />);
    expect(screen.getByText(/From ad: Bright studio near Retiro/)).toBeInTheDocument();
  });

  it("images as thumbnails that open a lightbox with zoom", async () => {
    const user = userEvent.setup();
    renderWithQuery(<MessageView message={fromFixture("image", "cloud__image__caption.json")} />);
    expect(screen.getByText("The damp patch in the bedroom")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: /Open photo 1/ }));
    const dialog = screen.getByRole("dialog", { name: "Photo viewer" });
    await user.click(within(dialog).getByRole("button", { name: "Zoom" }));
    expect(within(dialog).getByRole("button", { name: "Fit" })).toHaveAttribute("aria-pressed", "true");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("several images in a grid", () => {
    renderWithQuery(<MessageView message={fromFixture("image", "twilio__media__three_images.txt")} />);
    expect(screen.getAllByRole("button", { name: /Open photo/ })).toHaveLength(3);
  });

  it("a photo still downloading, and one that failed", () => {
    const pending = fromFixture("image", "cloud__image__caption.json");
    pending.attachments[0] = { ...pending.attachments[0], status: "pending", url: null, thumbnail_url: null };
    renderWithQuery(<MessageView message={pending} />);
    expect(screen.getByText("Photo loading…")).toBeInTheDocument();
    const failed = fromFixture("image", "cloud__image__caption.json");
    failed.attachments[0] = { ...failed.attachments[0], status: "failed", url: null, error: "HTTP 404" };
    renderWithQuery(<MessageView message={failed} />);
    expect(screen.getByText(/Photo could not be downloaded/)).toBeInTheDocument();
  });

  it("Instagram story replies and mentions", () => {
    renderWithQuery(<MessageView message={fromFixture("text", "messages__story_reply.json")} />);
    expect(screen.getByText("Replied to your story")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("image", "messages__story_mention.json")} />);
    expect(screen.getByText("Mentioned you in their story")).toBeInTheDocument();
  });

  it("video with a player, and shared reels", () => {
    const { container } = renderWithQuery(<MessageView message={fromFixture("video", "cloud__video__basic.json")} />);
    expect(container.querySelector("video[controls]")).not.toBeNull();
    renderWithQuery(<MessageView message={fromFixture("video", "messages__ig_reel.json")} />);
    expect(screen.getByText(/Shared a reel: Tour of the loft/)).toBeInTheDocument();
  });

  it("voice notes and audio with a player", () => {
    renderWithQuery(<MessageView message={fromFixture("audio", "cloud__audio__voice.json")} />);
    expect(screen.getByText("Voice note")).toBeInTheDocument();
    expect(screen.getByLabelText("Voice note", { selector: "audio" })).toHaveAttribute("controls");
  });

  it("documents as a download with name and size", () => {
    renderWithQuery(<MessageView message={fromFixture("document", "cloud__document__filename.json")} />);
    const link = screen.getByRole("link", { name: /lease-calle-mayor-12\.pdf/ });
    expect(link).toHaveAttribute("download", "lease-calle-mayor-12.pdf");
    expect(link).toHaveTextContent("application/pdf · 2 KB");
    expect(screen.getByText("Signed lease")).toBeInTheDocument();
  });

  it("stickers, and Instagram's heart", () => {
    renderWithQuery(<MessageView message={fromFixture("sticker", "cloud__sticker__animated.json")} />);
    expect(screen.getByRole("img", { name: "Sticker" })).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("sticker", "messages__like_heart.json")} />);
    expect(screen.getByRole("img", { name: "Heart" })).toHaveTextContent("❤️");
  });

  it("locations with a map link (WhatsApp and Messenger shapes)", () => {
    renderWithQuery(<MessageView message={fromFixture("location", "cloud__location__named.json")} />);
    expect(screen.getByText("Plaza Mayor")).toBeInTheDocument();
    expect(screen.getByText("Plaza Mayor, 28012 Madrid, Spain")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open in map" }).getAttribute("href")).toContain("mlat=40.4153&mlon=-3.7074");
    renderWithQuery(<MessageView message={fromFixture("location", "messages__location.json")} />);
    expect(screen.getByText("Maya's Location")).toBeInTheDocument();
  });

  it("shared contacts, from WhatsApp contacts and from vCards", () => {
    renderWithQuery(<MessageView message={fromFixture("contacts", "cloud__contacts__vcard.json")} />);
    expect(screen.getByText("Jon Park")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "+1 415-555-0177" })).toHaveAttribute("href", "tel:+14155550177");
    expect(screen.getByRole("link", { name: "jon.park@example.com" })).toBeInTheDocument();
    expect(screen.getByText("Park Relocations")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("contacts", "bridge__wwebjs__vcard.json")} />);
    expect(screen.getAllByText("Jon Park")).toHaveLength(2);
  });

  it("button, list and flow replies, orders, postbacks and generic templates", () => {
    renderWithQuery(<MessageView message={fromFixture("interactive", "cloud__interactive__button_reply.json")} />);
    expect(screen.getByText("Tapped button")).toBeInTheDocument();
    expect(screen.getByText("Book a viewing")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "cloud__interactive__list_reply.json")} />);
    expect(screen.getByText("Chose from list")).toBeInTheDocument();
    expect(screen.getByText("Monthly rent, bills excluded")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "cloud__interactive__nfm_reply.json")} />);
    expect(screen.getByText(/Form submitted/)).toBeInTheDocument();
    expect(screen.getByText("11:00")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "cloud__order__products.json")} />);
    expect(screen.getByText("Order · 2 items")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "messaging_postbacks__get_started.json")} />);
    expect(screen.getByText("Get Started")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "messages__quick_reply.json")} />);
    expect(screen.getByText("Quick reply")).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("interactive", "message_echoes__template.json", { direction: "outbound", status: "sent" })} />);
    expect(screen.getByText("2 bedrooms · $1,850/month")).toBeInTheDocument();
    expect(screen.getByText("View listing")).toBeInTheDocument();
  });

  it("reactions on their message", () => {
    renderWithQuery(<MessageView message={message({ reactions: [{ emoji: "❤️", by: "contact", at: "2026-01-01T10:00:00Z" }, { emoji: "👍", by: "agent" }] })} />);
    const reactions = screen.getByLabelText("Reactions");
    expect(reactions).toHaveTextContent("❤️");
    expect(reactions).toHaveTextContent("👍");
  });

  it("a reaction message", () => {
    renderWithQuery(<MessageView message={message({ kind: "reaction", text: "😂" })} />);
    expect(screen.getByText("Reacted 😂")).toBeInTheDocument();
  });

  it("replies quote the original", () => {
    const original = message({ id: 1, text: "Is the flat on Oak Street free?" });
    renderWithQuery(<MessageView message={message({ reply_to: 1, text: "Yes!", direction: "outbound", status: "sent" })} quoted={original} />);
    expect(screen.getByText("Is the flat on Oak Street free?").closest("blockquote")).toHaveTextContent("Customer");
  });

  it("deleted messages", () => {
    renderWithQuery(<MessageView message={message({ is_deleted: true, text: "" })} />);
    expect(screen.getByText("This message was deleted")).toBeInTheDocument();
  });

  it("system messages and the first-open welcome", () => {
    renderWithQuery(<MessageView message={fromFixture("system", "cloud__system__user_changed_number.json")} />);
    expect(screen.getByRole("note")).toHaveTextContent("User Maria Lopez changed from 14155550101 to 14155550199");
    renderWithQuery(<MessageView message={fromFixture("system", "cloud__request_welcome__first_open.json")} />);
    expect(screen.getByText("The customer opened the chat for the first time.")).toBeInTheDocument();
  });

  it("unsupported messages said plainly", () => {
    renderWithQuery(<MessageView message={fromFixture("unsupported", "cloud__unsupported__poll.json")} />);
    expect(screen.getByText(/can’t be shown here \(poll creation\)/)).toBeInTheDocument();
    renderWithQuery(<MessageView message={fromFixture("unsupported", "messages__unknown_attachment.json")} />);
    expect(screen.getByText(/\(appointment booking\)/)).toBeInTheDocument();
  });

  it("listing cards with photo strip, price and location", async () => {
    const fetchMock = vi.spyOn(globalThis, "fetch").mockResolvedValue(
      new Response(
        JSON.stringify({
          has_card: true,
          message: "Property 39 has 2 images.",
          card: {
            id: 39, reference: "39", label: "Property 39", title: "12 Oak Street", price: "485000.00", currency: "USD", location: "Oakland, CA",
            bedrooms: 3, description: "", status: "active", images: ["/i/1.jpg", "/i/2.jpg"], thumbnails: ["/t/1.jpg", "/t/2.jpg"], image_count: 2, verified_with_photos: true,
          },
        }),
        { status: 200, headers: { "Content-Type": "application/json" } },
      ),
    );
    renderWithQuery(
      <MessageView
        message={message({ kind: "listing_card", direction: "outbound", status: "delivered", text: "🏠 12 Oak Street", payload: { listing_id: 39, card: { title: "12 Oak Street", price: "485000", currency: "USD", location: "Oakland, CA", bedrooms: 3 } } })}
      />,
    );
    const card = screen.getByTestId("listing-card");
    expect(within(card).getByText("12 Oak Street")).toBeInTheDocument();
    expect(within(card).getByText(/485,000/)).toBeInTheDocument();
    expect(within(card).getByText("Oakland, CA")).toBeInTheDocument();
    expect(within(card).getByText("3 bedrooms")).toBeInTheDocument();
    expect(await within(card).findAllByRole("listitem")).toHaveLength(2);
    expect(String(fetchMock.mock.calls[0][0] instanceof Request ? fetchMock.mock.calls[0][0].url : fetchMock.mock.calls[0][0])).toContain("/api/listings/39/card-display/");
    fetchMock.mockRestore();
  });

  it.each([
    ["queued", "Queued"],
    ["sent", "Sent"],
    ["delivered", "Delivered"],
    ["read", "Read"],
  ] as const)("outbound tick: %s", (status, label) => {
    renderWithQuery(<MessageView message={message({ direction: "outbound", status })} />);
    expect(screen.getByRole("img", { name: label })).toBeInTheDocument();
  });

  it("an optimistic message shows as sending", () => {
    renderWithQuery(<MessageView message={message({ direction: "outbound", status: "queued", _pending: "sending" })} />);
    expect(screen.getByRole("img", { name: "Sending" })).toBeInTheDocument();
  });

  it("failures with the reason in words and a retry button", async () => {
    const onRetry = vi.fn();
    const failed = message({ direction: "outbound", status: "failed", error_code: "131047", error_message: "More than 24 hours have passed since the customer last replied." });
    renderWithQuery(<MessageView message={failed} onRetry={onRetry} />);
    expect(screen.getByRole("alert")).toHaveTextContent("More than 24 hours have passed since the customer last replied. (code 131047)");
    await userEvent.setup().click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledWith(failed);
  });
});
