from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campus.jobs import job_create
from campus.models import Job
from campus.search import highlight
from communities import animation, selectors, services
from communities.forms import (
    DirectoryFilterForm,
    GroupForm,
    HideForm,
    InviteForm,
    JoinForm,
    PostForm,
    ReportForm,
    SearchForm,
    SettingsForm,
    ThreadForm,
)
from communities.markdown import post_html, practice_titles
from communities.models import Post, Thread
from communities.selectors import GroupAccess
from mallette.forms import PracticeProposalForm
from mallette.selectors import practices_visible_to

DIRECTORY_PAGE_SIZE = 20
THREADS_PAGE_SIZE = 20
POSTS_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20
NOTIFICATIONS_PAGE_SIZE = 30
PICKER_LIMIT = 8

DEFAULT_CHARTER = _(
    "Bienveillance : on critique des idées, jamais des personnes.\n"
    "Confidentialité : ce qui est dit dans le groupe reste dans le groupe ; aucun nom, aucun "
    "détail permettant de reconnaître un collaborateur.\n"
    "Entraide : on partage ce qui a marché, et ce qui n’a pas marché.\n"
    "Pas de publicité, pas de données personnelles. Les modérateurs peuvent masquer un "
    "message qui ne respecte pas cette charte."
)


def _querystring(request: HttpRequest, drop: str = "page") -> str:
    params = request.GET.copy()
    params.pop(drop, None)
    return params.urlencode()


# --- Directory -----------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """My groups, invitations, suggestions and the directory (search + type filter)."""
    user = request.user
    form = DirectoryFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    groups = selectors.directory(user, query=data.get("q") or "", kind=data.get("kind") or "")
    page = Paginator(groups, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "querystring": _querystring(request),
        "searching": bool(data.get("q") or data.get("kind")),
    }
    if request.htmx:
        return render(request, "communities/index.html#directory", context)
    context |= {
        "mine": list(selectors.groups_of(user)),
        "invitations": list(selectors.invitations_of(user)),
        "suggestions": selectors.suggestions_for(user),
        "can_create": selectors.can_create_group(user),
        "unread_notifications": selectors.unread_notification_count(user),
        "search_form": SearchForm(),
    }
    return render(request, "communities/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    if not selectors.can_create_group(request.user):
        raise Http404
    form = GroupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        group = services.group_create(creator=request.user, data=form.cleaned_data)
        messages.success(request, _("Le groupe est créé. Vous en êtes le modérateur."))
        return redirect("communities:group", slug=group.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "communities/group_form.html", {"form": form}, status=status)


# --- Group ---------------------------------------------------------------------------------------


def _group_context(request: HttpRequest, access: GroupAccess, **extra: Any) -> dict[str, Any]:
    group = access.group
    threads = None
    if access.can_read:
        threads = Paginator(selectors.group_threads(request.user, group), THREADS_PAGE_SIZE)
        threads = threads.get_page(request.GET.get("page"))
    return {
        "group": group,
        "access": access,
        "can_join": access.can_join(request.user),
        "can_moderate": access.can_moderate(request.user),
        "threads": threads,
        "charter": group.charter or DEFAULT_CHARTER,
        "moderators": selectors.group_moderators(group),
        "join_form": extra.pop("join_form", None) or JoinForm(),
        "invite_form": extra.pop("invite_form", None)
        or InviteForm(organisation_id=request.user.organisation_id),
        **extra,
    }


@login_required
@require_GET
def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    return render(request, "communities/group.html", _group_context(request, access))


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    if not access.is_group_moderator:
        raise Http404
    form = GroupForm(request.POST if request.method == "POST" else None, instance=access.group)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.group_update(group=access.group, data=data)
        messages.success(request, _("Le groupe est modifié."))
        return redirect("communities:group", slug=access.group.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "communities/group_form.html",
        {"form": form, "group": access.group},
        status=status,
    )


@login_required
@require_POST
def group_join(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "communities/group.html",
            _group_context(request, access, join_form=form),
            status=400,
        )
    try:
        services.group_join(access=access, user=request.user)
    except services.CommunityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Bienvenue dans le groupe « %(name)s ».") % {"name": access.group.name}
        )
    return redirect("communities:group", slug=access.group.slug)


@login_required
@require_POST
def group_leave(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    if access.membership is None:
        raise Http404
    declined = access.is_invited
    if declined:
        services.invitation_decline(group=access.group, user=request.user)
        messages.success(request, _("Invitation déclinée."))
        return redirect("communities:index")
    try:
        services.group_leave(group=access.group, user=request.user)
    except services.CommunityError as exc:
        messages.error(request, str(exc))
        return redirect("communities:group", slug=access.group.slug)
    messages.success(
        request, _("Vous avez quitté le groupe « %(name)s ».") % {"name": access.group.name}
    )
    if access.group.is_open:
        return redirect("communities:group", slug=access.group.slug)
    return redirect("communities:index")


@login_required
@require_POST
def group_invite(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    if not access.is_group_moderator:
        raise Http404
    form = InviteForm(request.POST, organisation_id=request.user.organisation_id)
    if form.is_valid():
        invitee = form.cleaned_data["email"]
        try:
            services.member_invite(group=access.group, inviter=request.user, invitee=invitee)
        except services.CommunityError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request, _("%(name)s est invité(e) au groupe.") % {"name": invitee.full_name}
            )
            return redirect("communities:group", slug=access.group.slug)
    return render(
        request,
        "communities/group.html",
        _group_context(request, access, invite_form=form),
        status=400,
    )


MEMBERS_PAGE_SIZE = 50


@login_required
@require_GET
def group_members(request: HttpRequest, slug: str) -> HttpResponse:
    """The members of a group, for whoever may read it; its moderators manage roles here."""
    access = selectors.get_group_for_user(request.user, slug)
    if not access.can_read:
        raise Http404
    page = Paginator(selectors.group_members(access.group), MEMBERS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "communities/members.html",
        {
            "group": access.group,
            "access": access,
            "page": page,
            "can_manage": access.is_group_moderator,
            "moderator_count": len(selectors.group_moderators(access.group)),
        },
    )


def _member_action(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    membership = selectors.get_member_for_moderator(access, pk)
    name = membership.user.full_name or membership.user.email
    try:
        if action == "promote":
            services.member_promote(group=access.group, membership_id=membership.pk)
            done = _("%(name)s modère désormais le groupe.")
        elif action == "demote":
            services.member_demote(group=access.group, membership_id=membership.pk)
            done = _("%(name)s ne modère plus le groupe.")
        else:
            services.member_remove(group=access.group, membership_id=membership.pk)
            done = _("%(name)s a été retiré(e) du groupe.")
    except services.CommunityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done % {"name": name})
    url = reverse("communities:group_members", args=[access.group.slug])
    page = request.POST.get("page", "")
    if page.isdigit():
        url += f"?page={page}"
    return redirect(url)


@login_required
@require_POST
def member_promote(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _member_action(request, slug, pk, "promote")


@login_required
@require_POST
def member_demote(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _member_action(request, slug, pk, "demote")


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _member_action(request, slug, pk, "remove")


# --- Threads -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def thread_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.get_group_for_user(request.user, slug)
    if not access.can_read:
        raise Http404
    if not access.can_post:
        messages.error(request, _("Rejoignez le groupe pour lancer une discussion."))
        return redirect("communities:group", slug=access.group.slug)
    form = ThreadForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                thread = services.thread_create(
                    access=access,
                    author=request.user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
            except services.RateLimited as exc:
                form.add_error(None, str(exc))
                status = 429
            except services.CommunityError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Votre discussion est lancée."))
                return redirect("communities:thread", pk=thread.pk)
    return render(
        request,
        "communities/thread_form.html",
        {"form": form, "group": access.group},
        status=status,
    )


def _thread_context(
    request: HttpRequest,
    thread: Thread,
    access: GroupAccess,
    *,
    form: PostForm | None = None,
    mark_read: bool = True,
) -> dict[str, Any]:
    """Everything the thread page needs, in a constant number of queries whatever the number
    of posts: the page of posts, their reactions (2), mentioned practices (2), the state."""
    user = request.user
    can_moderate = access.can_moderate(user)
    posts_qs = selectors.thread_posts(user, thread, moderator=can_moderate)
    paginator = Paginator(posts_qs, POSTS_PAGE_SIZE)
    number = request.GET.get("page")
    if number is None and request.GET.get("dernier"):
        number = paginator.num_pages
    page = paginator.get_page(number)
    posts = list(page.object_list)
    state = selectors.thread_state(user, thread)
    last_read = state.last_read_at if state else None
    titles = practice_titles(user, (p.pk for post in posts for p in post.mentioned_practices.all()))
    reactions = selectors.reactions_for(user, posts)
    rows = []
    for post in posts:
        see = not post.deleted and (not post.hidden or post.author_id == user.pk or can_moderate)
        rows.append(
            selectors.PostView(
                post=post,
                html=post_html(post.body, titles) if see else "",
                reactions=reactions[post.pk],
                unread=last_read is not None
                and post.created_at > last_read
                and post.author_id != user.pk,
                can_see_body=see,
            )
        )
    if mark_read:
        services.thread_mark_read(thread=thread, user=user, state=state)
    return {
        "thread": thread,
        "group": thread.group,
        "access": access,
        "can_moderate": can_moderate,
        "page": page,
        "rows": rows,
        "following": bool(state and state.following),
        "form": form or PostForm(),
        "can_summarise": access.is_member and thread.reply_count + 1 >= animation.SUMMARY_MIN_POSTS,
        "first_unread": next((r.post.pk for r in rows if r.unread), None),
    }


@login_required
@require_GET
def thread_detail(request: HttpRequest, pk: int) -> HttpResponse:
    thread, access = selectors.get_thread_for_user(request.user, pk)
    return render(request, "communities/thread.html", _thread_context(request, thread, access))


@login_required
@require_POST
def post_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """Reply: htmx appends the new post and resets the form; without JS, back to the page."""
    thread, access = selectors.get_thread_for_user(request.user, pk)
    if not access.can_post:
        raise Http404
    form = PostForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            post = services.post_reply(
                access=access, thread=thread, author=request.user, body=form.cleaned_data["body"]
            )
        except services.RateLimited as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            if request.htmx:
                titles = practice_titles(
                    request.user, (p.pk for p in post.mentioned_practices.all())
                )
                row = selectors.PostView(
                    post=post,
                    html=post_html(post.body, titles),
                    reactions=selectors.reactions_of_post(request.user, post),
                )
                return render(
                    request,
                    "communities/partials/reply_posted.html",
                    {
                        "row": row,
                        "thread": thread,
                        "form": PostForm(),
                        "can_moderate": access.can_moderate(request.user),
                        "access": access,
                    },
                )
            messages.success(request, _("Votre réponse est publiée."))
            url = reverse("communities:thread", args=[thread.pk])
            return redirect(f"{url}?dernier=1#message-{post.pk}")
    if request.htmx:
        # htmx swaps 2xx answers only: 200 so the errors (and the kept text) are shown.
        return render(
            request,
            "communities/thread.html#reply_form",
            {"thread": thread, "form": form, "access": access},
        )
    context = _thread_context(request, thread, access, form=form, mark_read=False)
    return render(request, "communities/thread.html", context, status=status)


@login_required
@require_POST
def follow_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    thread, access = selectors.get_thread_for_user(request.user, pk)
    following = request.POST.get("following") == "1"
    services.follow_set(thread=thread, user=request.user, following=following)
    if request.htmx:
        return render(
            request,
            "communities/thread.html#follow",
            {"thread": thread, "following": following},
        )
    messages.success(
        request,
        _("Vous suivez cette discussion.")
        if following
        else _("Vous ne suivez plus cette discussion."),
    )
    return redirect("communities:thread", pk=thread.pk)


# --- Posts ---------------------------------------------------------------------------------------


def _post_url(post: Post) -> str:
    return reverse("communities:post", args=[post.pk])


@login_required
@require_GET
def post_locate(request: HttpRequest, pk: int) -> HttpResponse:
    """A stable link to a post: the right page of its thread, anchored on it."""
    post, _access = selectors.get_post_for_user(request.user, pk)
    before = Post.objects.filter(thread_id=post.thread_id, created_at__lt=post.created_at).count()
    page = before // POSTS_PAGE_SIZE + 1
    url = reverse("communities:thread", args=[post.thread_id])
    return redirect(f"{url}?page={page}#message-{post.pk}")


@login_required
@require_POST
def reaction_toggle(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    post, access = selectors.get_post_for_user(request.user, pk)
    if not access.can_post or not post.is_visible:
        raise Http404
    try:
        services.reaction_toggle(post=post, user=request.user, kind=kind)
    except services.CommunityError:
        raise Http404 from None
    if request.htmx:
        return render(
            request,
            "communities/partials/reactions.html",
            {"post": post, "reactions": selectors.reactions_of_post(request.user, post)},
        )
    return redirect(_post_url(post))


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post, _access = selectors.get_own_post_for_user(request.user, pk)
    form = PostForm(request.POST if request.method == "POST" else None, initial={"body": post.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.post_update(post=post, body=form.cleaned_data["body"])
        except services.CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Votre message est modifié."))
            return redirect(_post_url(post))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "communities/post_edit.html", {"form": form, "post": post}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    post, _access = selectors.get_own_post_for_user(request.user, pk)
    if request.method == "POST":
        thread_id = post.thread_id
        services.post_delete(post=post)
        messages.success(request, _("Votre message est supprimé."))
        return redirect("communities:thread", pk=thread_id)
    return render(request, "communities/post_delete.html", {"post": post})


@login_required
@require_http_methods(["GET", "POST"])
def post_report(request: HttpRequest, pk: int) -> HttpResponse:
    post, access = selectors.get_post_for_user(request.user, pk)
    if not post.is_visible or post.author_id == request.user.pk:
        raise Http404
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.post_report(
                    post=post,
                    reporter=request.user,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                )
            except services.RateLimited as exc:
                form.add_error(None, str(exc))
                status = 429
            except services.CommunityError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Merci : le message est signalé aux modérateurs du groupe.")
                )
                return redirect(_post_url(post))
    return render(
        request, "communities/post_report.html", {"form": form, "post": post}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_share(request: HttpRequest, pk: int) -> HttpResponse:
    """'Share as a practice': the author proposes their post to the mallette's moderation."""
    post, access = selectors.get_own_post_for_user(request.user, pk)
    if not post.is_visible:
        raise Http404
    if post.shared_practice_id:
        messages.info(request, _("Ce message a déjà été proposé comme pratique."))
        return redirect(_post_url(post))
    initial = {
        "title": post.thread.title[:160],
        "summary": " ".join(post.body.split())[:400],
        "body": post.body,
        "level": "all",
    }
    if post.thread.group.theme_id:
        initial["primary_theme"] = post.thread.group.theme.slug
    form = PracticeProposalForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_share_as_practice(post=post, author=request.user, data=form.cleaned_data)
        except services.CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Merci ! Votre pratique est proposée à la mallette : l’équipe de modération "
                    "la relira avant publication."
                ),
            )
            return redirect(_post_url(post))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "communities/post_share.html", {"form": form, "post": post}, status=status
    )


# --- Moderation ----------------------------------------------------------------------------------


@login_required
@require_GET
def moderation(request: HttpRequest) -> HttpResponse:
    groups = selectors.moderated_groups(request.user)
    if not groups.exists():
        raise Http404
    queue = Paginator(selectors.moderation_queue(request.user), 20).get_page(
        request.GET.get("page")
    )
    hidden = list(selectors.hidden_posts(request.user)[:20])
    return render(request, "communities/moderation.html", {"queue": queue, "hidden": hidden})


@login_required
@require_http_methods(["GET", "POST"])
def post_hide(request: HttpRequest, pk: int) -> HttpResponse:
    post, _access = selectors.get_post_for_moderator(request.user, pk)
    form = HideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.post_hide(post=post, moderator=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Le message est masqué ; son auteur en est informé."))
        if request.POST.get("next") == "queue":
            return redirect("communities:moderation")
        return redirect(_post_url(post))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "communities/post_hide.html", {"form": form, "post": post}, status=status
    )


@login_required
@require_POST
def post_restore(request: HttpRequest, pk: int) -> HttpResponse:
    post, _access = selectors.get_post_for_moderator(request.user, pk)
    services.post_restore(post=post, moderator=request.user)
    messages.success(request, _("Le message est de nouveau visible."))
    return redirect(_post_url(post))


@login_required
@require_POST
def reports_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    post, _access = selectors.get_post_for_moderator(request.user, pk)
    services.reports_dismiss(post=post, moderator=request.user)
    messages.success(request, _("Signalements classés : le message reste visible."))
    return redirect("communities:moderation")


# --- Animation -----------------------------------------------------------------------------------


@login_required
@require_POST
def thread_summarise(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the coach for a summary: a job with a progress bar (the LLM may take a while)."""
    thread, access = selectors.get_thread_for_user(request.user, pk)
    if not access.is_member or thread.reply_count + 1 < animation.SUMMARY_MIN_POSTS:
        raise Http404
    running = Job.objects.filter(
        owner=request.user,
        kind="communities.summary",
        state__in=[Job.State.PENDING, Job.State.RUNNING],
        task_kwargs__thread_id=thread.pk,
    ).first()
    job = running or job_create(
        owner=request.user,
        kind="communities.summary",
        title=_("Résumé de « %(title)s »") % {"title": thread.title[:150]},
        task_name="communities.tasks.thread_summarise",
        task_kwargs={"thread_id": thread.pk},
    )
    return redirect("job_status", job_id=job.pk)


# --- Practice picker, search, notifications, settings ---------------------------------------------


@login_required
@require_GET
def practice_picker(request: HttpRequest) -> HttpResponse:
    """Practices to cite: an htmx listbox under the editor, or a page without JavaScript."""
    query = (request.GET.get("q") or "").strip()[:100]
    practices: list = []
    if query:
        import re

        from campus.search import Unaccent, unaccent

        qs = practices_visible_to(request.user).annotate(_title=Unaccent("title"))
        for word in re.findall(r"\w+", unaccent(query).lower())[:6]:
            qs = qs.filter(_title__icontains=word)
        practices = list(qs.order_by("title").only("pk", "title", "slug")[:PICKER_LIMIT])
        if not practices:
            from mallette.search import practices_search

            hits = practices_search(practices_visible_to(request.user), query, limit=PICKER_LIMIT)
            practices = [h.obj for h in hits]
    template = (
        "communities/practice_picker.html#results"
        if request.htmx
        else "communities/practice_picker.html"
    )
    return render(request, template, {"query": query, "practices": practices})


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = None
    rows = []
    if query:
        page = Paginator(selectors.posts_search(request.user, query), SEARCH_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = [
            {
                "post": post,
                "title": highlight(post.thread.title, query, max_words=30),
                "snippet": highlight(post.body, query, max_words=40),
            }
            for post in page.object_list
        ]
    return render(
        request,
        "communities/search.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "rows": rows,
            "querystring": _querystring(request),
        },
    )


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(request.user), NOTIFICATIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = list(page.object_list)
    unread = {n.pk for n in items if n.read_at is None}
    services.notifications_mark_read(user=request.user)
    return render(
        request,
        "communities/notifications.html",
        {"page": page, "items": items, "unread": unread},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_settings(request: HttpRequest) -> HttpResponse:
    current = services.settings_of(request.user)
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"digest": current.digest, "notify_new_threads": current.notify_new_threads},
    )
    if request.method == "POST" and form.is_valid():
        services.settings_update(
            user=request.user,
            digest=form.cleaned_data["digest"],
            notify_new_threads=form.cleaned_data["notify_new_threads"],
        )
        messages.success(request, _("Vos préférences sont enregistrées."))
        return redirect("communities:settings")
    return render(request, "communities/settings.html", {"form": form})
