"""Reviews written on this site: submission, the moderation queue, and publishing an approved one as a review item."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.records import ItemRecords
from model.items import Review


@dataclass
class UserReview:
    """A review written on this site, with its moderation state."""

    id: int
    institution_unitid: str
    institution_name: str | None
    rating: int
    category: str | None
    author_role: str | None
    title: str | None
    body: str
    status: str
    submitted_at: str
    client_hash: str | None
    moderated_at: str | None
    moderated_by: str | None
    moderation_note: str | None


class UserReviews(ItemRecords):
    """User reviews and their moderation (built on the items table: an approved review is published there)."""

    def add_user_review(
        self,
        *,
        institution_unitid: str,
        institution_name: str | None,
        rating: int,
        body: str,
        category: str | None = None,
        author_role: str | None = None,
        title: str | None = None,
        client_hash: str | None = None,
    ) -> int:
        """Store a review a student wrote here, pending moderation; returns its id."""
        with self.transaction():
            review_id = self.conn.execute(
                "INSERT INTO user_reviews (institution_unitid, institution_name, rating, category, author_role, title,"
                " body, submitted_at, client_hash) VALUES (:institution_unitid, :institution_name, :rating, :category,"
                " :author_role, :title, :body, :submitted_at, :client_hash) RETURNING id",
                {"institution_unitid": institution_unitid, "institution_name": institution_name, "rating": rating,
                 "category": category, "author_role": author_role, "title": title, "body": body,
                 "submitted_at": self.clock(), "client_hash": client_hash},
            ).scalar()
        return int(review_id or 0)

    def get_user_review(self, review_id: int) -> UserReview | None:
        """One user review by id."""
        row = self.conn.execute("SELECT * FROM user_reviews WHERE id = :id", {"id": review_id}).fetchone()
        return UserReview(**dict(row)) if row else None

    def list_user_reviews(self, status: str | None = "pending", *, limit: int = 100, offset: int = 0) -> list[UserReview]:
        """User reviews in a moderation state, oldest first."""
        if status:
            rows = self.conn.execute(
                "SELECT * FROM user_reviews WHERE status = :status ORDER BY id LIMIT :limit OFFSET :offset",
                {"status": status, "limit": limit, "offset": offset},
            )
        else:
            rows = self.conn.execute("SELECT * FROM user_reviews ORDER BY id DESC LIMIT :limit OFFSET :offset",
                                     {"limit": limit, "offset": offset})
        return [UserReview(**dict(r)) for r in rows]

    def count_user_reviews(self, status: str | None = "pending") -> int:
        """How many user reviews are in a moderation state."""
        if status:
            return int(self.conn.execute("SELECT COUNT(*) FROM user_reviews WHERE status = :status",
                                         {"status": status}).scalar())
        return int(self.conn.execute("SELECT COUNT(*) FROM user_reviews").scalar())

    def recent_submissions(self, client_hash: str, since: str) -> int:
        """How many reviews one client submitted since a time (spam limit)."""
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM user_reviews WHERE client_hash = :client_hash AND submitted_at >= :since",
            {"client_hash": client_hash, "since": since},
        ).scalar())

    def moderate_user_review(self, review_id: int, *, approve: bool, moderator: str, note: str | None = None) -> bool:
        """Approve (publishing it as a review item) or reject a pending review; False if not pending."""
        now = self.clock()
        with self.transaction():
            row = self.conn.execute(
                "SELECT * FROM user_reviews WHERE id = :id AND status = 'pending'", {"id": review_id}
            ).fetchone()
            if row is None:
                return False
            status = "approved" if approve else "rejected"
            self.conn.execute(
                "UPDATE user_reviews SET status = :status, moderated_at = :now, moderated_by = :moderator,"
                " moderation_note = :note WHERE id = :id",
                {"status": status, "now": now, "moderator": moderator, "note": note, "id": review_id},
            )
            if approve:
                self.upsert(published_review(UserReview(**dict(row))))
        return True


def published_review(review: UserReview) -> Review:
    """The review item an approved user review is published as (linked to its institution by the writer's choice)."""
    return Review(
        url=f"/reviews/user/{review.id}",
        source="user",
        review_id=f"user:{review.id}",
        institution_unitid=review.institution_unitid,
        institution_name=review.institution_name,
        rating=review.rating,
        title=review.title,
        body=review.body,
        author_role=review.author_role,
        category=review.category,
        date=review.submitted_at[:10],
        origin="user",
        link_status="matched",
        link_confidence=100.0,
    )
