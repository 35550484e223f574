import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type DragEvent, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import {
  createListing,
  deleteListing,
  deleteListingImage,
  getListing,
  linkListingContact,
  listingCard,
  listingContacts,
  listingImages,
  listListings,
  reorderListingImages,
  unlinkListingContact,
  updateListing,
  uploadListingImage,
} from "../../api/endpoints";
import type { Listing } from "../../api/types";
import { Icon } from "../../components/Icon";
import { formatPrice } from "../../lib/format";
import { qk } from "../../state/keys";
import { ListingCardView } from "../thread/MessageView";
import { ErrorText, Section, TextInput } from "./common";

const STATUSES = ["draft", "active", "under_offer", "sold", "let", "archived"] as const;

function listingBody(form: FormData) {
  const price = String(form.get("price") ?? "").trim();
  const bedrooms = String(form.get("bedrooms") ?? "").trim();
  return {
    title: String(form.get("title")),
    reference: String(form.get("reference") ?? ""),
    price: price === "" ? null : price,
    currency: String(form.get("currency") ?? ""),
    location: String(form.get("location") ?? ""),
    bedrooms: bedrooms === "" ? null : Number(bedrooms),
    description: String(form.get("description") ?? ""),
    status: String(form.get("status") ?? "active") as (typeof STATUSES)[number],
  };
}

function ListingForm({ listing, onSaved }: { listing?: Listing; onSaved: (l: Listing) => void }) {
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (form: FormData) => (listing ? updateListing(listing.id, listingBody(form)) : createListing(listingBody(form))),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: qk.allListings });
      qc.setQueryData(qk.listing(saved.id), saved);
      void qc.invalidateQueries({ queryKey: qk.card(saved.id) });
      onSaved(saved);
    },
  });
  return (
    <form
      key={listing?.id ?? "new"}
      className="form-grid card"
      aria-label={listing ? "Edit listing" : "New listing"}
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        save.mutate(new FormData(e.currentTarget));
      }}
    >
      <TextInput label="Title" name="title" defaultValue={listing?.title} required />
      <TextInput label="Reference" name="reference" defaultValue={listing?.reference} help="The code customers write, e.g. 39 or OAK-12." />
      <TextInput label="Price" name="price" type="number" defaultValue={listing?.price} />
      <TextInput label="Currency" name="currency" defaultValue={listing?.currency || "USD"} />
      <TextInput label="Location" name="location" defaultValue={listing?.location} />
      <TextInput label="Bedrooms" name="bedrooms" type="number" defaultValue={listing?.bedrooms} />
      <div className="field">
        <label htmlFor="listing-status">Status</label>
        <select id="listing-status" name="status" defaultValue={listing?.status ?? "active"}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace("_", " ")}
            </option>
          ))}
        </select>
      </div>
      <div className="field wide">
        <label htmlFor="listing-description">Description</label>
        <textarea id="listing-description" name="description" rows={3} defaultValue={listing?.description} />
      </div>
      <div className="form-actions wide">
        <button className="btn primary" type="submit" disabled={save.isPending}>
          {listing ? "Save listing" : "Create listing"}
        </button>
        {save.isSuccess && <span role="status">Saved.</span>}
      </div>
      <div className="wide">
        <ErrorText error={save.error} />
      </div>
    </form>
  );
}

function Images({ listingId }: { listingId: number }) {
  const qc = useQueryClient();
  const images = useQuery({ queryKey: qk.listingImages(listingId), queryFn: () => listingImages(listingId) });
  const [dragging, setDragging] = useState(false);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: qk.listingImages(listingId) });
    void qc.invalidateQueries({ queryKey: qk.card(listingId) });
    void qc.invalidateQueries({ queryKey: qk.allListings });
  };
  const upload = useMutation({
    mutationFn: async (files: File[]) => {
      for (const file of files) await uploadListingImage(listingId, file);
    },
    onSettled: refresh,
  });
  const reorder = useMutation({ mutationFn: (ids: number[]) => reorderListingImages(listingId, ids), onSettled: refresh });
  const remove = useMutation({ mutationFn: (id: number) => deleteListingImage(listingId, id), onSettled: refresh });
  const list = images.data?.images ?? [];
  const move = (index: number, delta: number) => {
    const ids = list.map((i) => i.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + delta, 0, moved);
    reorder.mutate(ids);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = Array.from(e.dataTransfer.files).filter((f) => f.type.startsWith("image/"));
    if (files.length) upload.mutate(files);
  };
  return (
    <Section title="Photos">
      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label className="btn">
          <Icon name="plus" size={16} /> Upload photos
          <input type="file" accept="image/*" multiple className="visually-hidden" onChange={(e) => e.target.files && upload.mutate(Array.from(e.target.files))} />
        </label>
        <span className="muted small">or drop images here. The first photo is the card’s cover.</span>
      </div>
      {upload.isPending && <p role="status">Uploading…</p>}
      <ErrorText error={upload.error ?? reorder.error ?? remove.error} />
      <ol className="image-grid">
        {list.map((image, i) => (
          <li key={image.id} className="image-item">
            {image.thumbnail_url || image.url ? <img src={image.thumbnail_url ?? image.url ?? ""} alt={image.caption || `Photo ${i + 1}`} /> : <span className="media-placeholder">No preview</span>}
            <div className="image-actions">
              <button type="button" className="btn icon tiny" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move photo ${i + 1} earlier`}>
                <Icon name="up" size={14} />
              </button>
              <button type="button" className="btn icon tiny" disabled={i === list.length - 1} onClick={() => move(i, 1)} aria-label={`Move photo ${i + 1} later`}>
                <Icon name="down" size={14} />
              </button>
              <button type="button" className="btn icon tiny danger" onClick={() => remove.mutate(image.id)} aria-label={`Remove photo ${i + 1}`}>
                <Icon name="trash" size={14} />
              </button>
            </div>
            {image.source === "attachment" && <span className="muted small">From a conversation</span>}
          </li>
        ))}
      </ol>
    </Section>
  );
}

function Contacts({ listingId }: { listingId: number }) {
  const qc = useQueryClient();
  const links = useQuery({ queryKey: qk.listingContacts(listingId), queryFn: () => listingContacts(listingId) });
  const refresh = () => qc.invalidateQueries({ queryKey: qk.listingContacts(listingId) });
  const link = useMutation({ mutationFn: (phone: string) => linkListingContact(listingId, { phone_number: phone }), onSuccess: refresh });
  const unlink = useMutation({ mutationFn: (id: number) => unlinkListingContact(listingId, id), onSettled: refresh });
  return (
    <Section title="Linked contacts">
      <p className="muted small">Photos a linked contact sends are filed under this listing automatically.</p>
      <ul className="plain-list">
        {(links.data ?? []).map((entry) => (
          <li key={entry.id}>
            {entry.contact ? `${entry.contact.name} · ${entry.contact.phone_number || entry.contact.platform}` : entry.contact_key}
            <button type="button" className="btn small" onClick={() => unlink.mutate(entry.id)}>
              Unlink
            </button>
          </li>
        ))}
      </ul>
      <form
        className="form-grid inline"
        onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          link.mutate(String(new FormData(e.currentTarget).get("phone")));
        }}
      >
        <TextInput label="Phone number" name="phone" required placeholder="+14155550101" />
        <div className="form-actions">
          <button className="btn" type="submit">
            Link contact
          </button>
        </div>
      </form>
      <ErrorText error={link.error ?? unlink.error} />
    </Section>
  );
}

function CardPreview({ listingId }: { listingId: number }) {
  const card = useQuery({ queryKey: qk.card(listingId), queryFn: () => listingCard(listingId) });
  return (
    <Section title="Card preview">
      <p className="muted small">{card.data?.message}</p>
      <div className="card-preview">
        <ListingCardView
          message={{ text: "", kind: "listing_card" } as never}
          payload={{ listing_id: listingId, card: card.data?.card ?? {} }}
        />
      </div>
    </Section>
  );
}

export function ListingsSettings() {
  const { listingId } = useParams();
  const id = listingId && listingId !== "new" ? Number(listingId) : null;
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [search, setSearch] = useState("");
  const listings = useQuery({ queryKey: qk.listings(search), queryFn: () => listListings(search || undefined) });
  const listing = useQuery({ queryKey: qk.listing(id ?? 0), queryFn: () => getListing(id!), enabled: id !== null });
  const remove = useMutation({
    mutationFn: deleteListing,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.allListings });
      navigate("/settings/listings");
    },
  });
  return (
    <div className="listings-layout">
      <Section
        title="Listings"
        actions={
          <Link className="btn primary" to="/settings/listings/new">
            <Icon name="plus" size={16} /> New listing
          </Link>
        }
      >
        <label className="visually-hidden" htmlFor="listings-search">
          Search listings
        </label>
        <input id="listings-search" type="search" placeholder="Search listings" value={search} onChange={(e) => setSearch(e.target.value)} />
        <ul className="listing-rows">
          {(listings.data?.results ?? []).map((l) => (
            <li key={l.id}>
              <Link to={`/settings/listings/${l.id}`} aria-current={l.id === id ? "page" : undefined}>
                <strong>{l.title}</strong>
                <span className="muted small">
                  {[l.label, formatPrice(l.price, l.currency), l.location, `${l.image_count} photos`, l.status.replace("_", " ")].filter(Boolean).join(" · ")}
                </span>
              </Link>
            </li>
          ))}
          {listings.data?.results.length === 0 && <li className="muted">No listings yet.</li>}
        </ul>
      </Section>
      <div className="listing-detail">
        {listingId === "new" && <ListingForm onSaved={(l) => navigate(`/settings/listings/${l.id}`)} />}
        {id !== null && listing.data && (
          <>
            <div className="section-head">
              <h2>{listing.data.title}</h2>
              <button type="button" className="btn small danger" onClick={() => confirm("Delete this listing?") && remove.mutate(id)}>
                Delete
              </button>
            </div>
            <ListingForm listing={listing.data} onSaved={() => undefined} />
            <Images listingId={id} />
            <CardPreview listingId={id} />
            <Contacts listingId={id} />
          </>
        )}
        {!listingId && <p className="muted">Choose a listing, or create one.</p>}
      </div>
    </div>
  );
}
