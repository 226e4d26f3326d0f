"""Workspaces, users, teams, roles, sharing, audit, custom fields, saved views, jobs, tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import connections, models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import OwnedModel, WorkspaceModel, WorkspaceQuerySet


class Workspace(models.Model):
    """One company. Every business row points here; nothing crosses between workspaces."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="CNY")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    OWN = "own", _("Own records")
    TEAM = "team", _("Own team")
    TEAM_AND_BELOW = "team_below", _("Own team and teams below")
    ALL = "all", _("All records")


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    READ = "read", _("Read")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    BULK = "bulk", _("Bulk actions")


class TeamKind(models.TextChoices):
    DEPARTMENT = "department", _("Department")
    TEAM = "team", _("Team")


class Team(WorkspaceModel):
    """A department or team; ``path`` ("/3/8/") makes "this team and below" one index scan."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=12, choices=TeamKind.choices, default=TeamKind.TEAM
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    manager = models.ForeignKey(
        "platform.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    path = models.CharField(max_length=400, default="", editable=False)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="team_name_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "path"], name="team_ws_path")]

    def __str__(self) -> str:
        return self.name


class Role(WorkspaceModel):
    """A set of per-object rights with a record visibility for each object.

    ``rights`` maps an object key to ``{"actions": [...], "visibility": "own|team|..."}``.
    ``is_admin`` roles manage the workspace (users, teams, roles, custom fields, audit).
    """

    name = models.CharField(_("name"), max_length=80)
    code = models.SlugField(_("code"), max_length=40)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_admin = models.BooleanField(_("administrator"), default=False)
    is_system = models.BooleanField(_("built in"), default=False)
    rights = models.JSONField(_("rights"), default=dict, blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="role_code_unique"),
            models.UniqueConstraint(fields=["workspace", "name"], name="role_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", _("Hidden")
    READ_ONLY = "read_only", _("Read-only")


class RoleFieldRule(WorkspaceModel):
    """A field that a role may not see (hidden) or not change (read-only)."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="field_rules")
    object_key = models.CharField(max_length=60)
    field = models.CharField(max_length=80)
    access = models.CharField(max_length=10, choices=FieldAccess.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["role", "object_key", "field"], name="role_field_rule_unique"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "role"], name="rolefield_ws_role")]


class UserQuerySet(WorkspaceQuerySet):
    pass


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    """Sign-in looks a user up by e-mail before any workspace is known, so the lookup is
    explicitly across workspaces; everything else goes through selectors that scope."""

    use_in_migrations = False

    def get_by_natural_key(self, username):
        return self.get_queryset().across_workspaces().get(email__iexact=username)

    def get_queryset(self):
        qs = super().get_queryset()
        # Django's auth internals (password reset, authenticate) look users up by e-mail.
        return qs.across_workspaces()


def _new_session_salt() -> str:
    return secrets.token_hex(8)


class User(AbstractBaseUser):
    """A person who signs in. Belongs to one workspace; signs in with their e-mail."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="users"
    )
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # Rotating the salt changes every session's auth hash: "sign out everywhere".
    session_salt = models.CharField(max_length=32, default=_new_session_salt, editable=False)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [
            models.Index(fields=["workspace", "full_name", "id"], name="user_ws_name"),
            models.Index(fields=["workspace", "team"], name="user_ws_team"),
            models.Index(fields=["workspace", "created_at", "id"], name="user_ws_created"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name

    def get_session_auth_hash(self) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "guanxi.platform.User.session",
            f"{self.password}:{self.session_salt}",
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_staff(self) -> bool:  # Django's admin is not used; the flag stays off.
        return False

    @property
    def is_superuser(self) -> bool:
        return False


class RecordShare(WorkspaceModel):
    """One record shared with a user or a team, beyond what their role's visibility allows."""

    object_key = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    can_edit = models.BooleanField(_("can edit"), default=False)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(team__isnull=True))
                | (models.Q(user__isnull=True) & models.Q(team__isnull=False)),
                name="share_user_xor_team",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "object_key", "user"], name="share_ws_obj_user"),
            models.Index(fields=["workspace", "object_key", "team"], name="share_ws_obj_team"),
            models.Index(fields=["workspace", "object_key", "object_id"], name="share_ws_obj_id"),
        ]


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGN_OUT = "sign_out", _("Signed out")
    PERMISSION_DENIED = "permission_denied", _("Permission denied")
    EXPORT = "export", _("Exported")
    SHARE = "share", _("Shared")
    SECURITY = "security", _("Security change")


class AuditQuerySet(WorkspaceQuerySet):
    def update(self, **kwargs):
        raise RuntimeError("the audit log is append-only")

    def apply_redactions(self, redactions: dict[int, tuple[dict, str]], *, at) -> int:
        """The one change the audit log allows: for each entry id, its new ``changes`` and
        ``object_repr`` with personal values replaced, and ``redacted_at`` stamped — once.

        Only ``guanxi.platform.audit.redact`` (erasure under PIPL/GDPR) calls this. Entries
        already redacted are skipped; the database trigger refuses any other update. One
        UPDATE for all the given ids (callers batch them). Returns the rows changed."""
        if not redactions:
            return 0
        changes_field = self.model._meta.get_field("changes")
        repr_field = self.model._meta.get_field("object_repr")
        changes = models.Case(
            *(
                models.When(pk=pk, then=models.Value(c, output_field=changes_field))
                for pk, (c, _repr) in redactions.items()
            ),
            output_field=changes_field,
        )
        reprs = models.Case(
            *(
                models.When(pk=pk, then=models.Value(r[:200], output_field=repr_field))
                for pk, (_changes, r) in redactions.items()
            ),
            output_field=repr_field,
        )
        if connections[self.db].features.requires_casted_case_in_updates:
            changes = Cast(changes, output_field=changes_field)
            reprs = Cast(reprs, output_field=repr_field)
        rows = self.filter(pk__in=list(redactions), redacted_at__isnull=True)
        # WorkspaceQuerySet.update: still refuses a query without a workspace filter.
        return super(AuditQuerySet, rows).update(changes=changes, object_repr=reprs, redacted_at=at)

    def delete(self):
        raise RuntimeError("the audit log is append-only")


class AuditEntry(models.Model):
    """Append-only: who did what to which record, when, with field-by-field before/after.

    ``workspace`` is empty only for failed sign-ins with an unknown e-mail address.
    """

    workspace = models.ForeignKey(
        Workspace, null=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_key = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Set once when an erasure (PIPL/GDPR) replaced the personal values in ``changes`` and
    # ``object_repr``; the database refuses every other change (see ``audit.redact``).
    redacted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = models.Manager.from_queryset(AuditQuerySet)()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["workspace", "-id"], name="audit_ws_id"),
            models.Index(
                fields=["workspace", "object_key", "object_id", "-id"], name="audit_ws_obj"
            ),
            models.Index(fields=["workspace", "actor", "-id"], name="audit_ws_actor"),
            models.Index(fields=["workspace", "action", "-id"], name="audit_ws_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_key}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("the audit log is append-only")
        super().save(*args, **kwargs)


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes/no")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    URL = "url", _("URL")
    USER = "user", _("User")


class CustomField(WorkspaceModel):
    """An administrator-defined field on one object; values live in the row's ``custom``."""

    object_key = models.CharField(_("object"), max_length=60)
    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=120)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    default = models.JSONField(_("default"), null=True, blank=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "object_key", "key"], name="customfield_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class SavedView(WorkspaceModel):
    """A user's named list view: filters, sort and columns."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    list_key = models.CharField(max_length=60)
    name = models.CharField(_("name"), max_length=80)
    params = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_key", "name"], name="savedview_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "user", "list_key"], name="savedview_ws_user")]


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class Job(OwnedModel):
    """A background job's durable state: progress for the bar, result or error at the end.

    ``idempotency_key`` makes enqueuing the same work twice return the first job.
    """

    kind = models.CharField(max_length=60)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=120)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"], name="job_idempotency_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "owner", "-id"], name="job_ws_owner"),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
        ]

    @property
    def percent(self) -> int:
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class ApiToken(WorkspaceModel):
    """A personal API token. Only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["workspace", "user"], name="apitoken_ws_user")]


class Invitation(WorkspaceModel):
    """An invitation to join a workspace (hosted mode and self-hosted alike)."""

    email = models.EmailField(_("e-mail"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "email"], name="invitation_ws_email")]
