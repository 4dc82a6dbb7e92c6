"""What every community app's configuration holds the same way: the community it runs for and
where members' browsers reach it."""

from __future__ import annotations


class Addresses:
    """Mixed into an app's ``Config`` dataclass, which has the two fields."""

    community: str  # the community's WebID
    public_url: str  # where members' browsers reach the app, ending in "/"

    def check_addresses(self) -> None:
        """``ValueError`` when the public URL or the community's WebID is not one."""
        if not self.public_url.startswith(("https://", "http://")) or \
                not self.public_url.endswith("/"):
            raise ValueError("--public-url must be an http(s) URL ending in /")
        if "#" not in self.community:
            raise ValueError("--community must be the community's WebID (…/profile/card#me)")

    @property
    def redirect_uri(self) -> str:
        """Where members' servers send them back after they sign in."""
        return self.public_url + "join/callback"

    @property
    def webhook(self) -> str:
        """Where members' servers send grant events."""
        return self.public_url + "hooks/grants"
