from django.urls import path

from switchboard.accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/set/", views.PasswordSetView.as_view(), name="password-set"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/invitations/", views.MyInvitationListView.as_view(), name="my-invitation-list"),
    path("me/invitations/<str:pk>/accept/", views.MyInvitationAcceptView.as_view(), name="my-invitation-accept"),
    path("me/invitations/<str:pk>/decline/", views.MyInvitationDeclineView.as_view(), name="my-invitation-decline"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    # Not <int:pk>: a non-numeric id must still get the API's JSON 404 (the mixin answers it), not fall through.
    path("members/<str:pk>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("invitations/", views.InvitationListView.as_view(), name="invitation-list"),
    path("invitations/<str:pk>/", views.InvitationDetailView.as_view(), name="invitation-detail"),
    path("invitations/<str:pk>/revoke/", views.InvitationRevokeView.as_view(), name="invitation-revoke"),
    path("invitations/<str:pk>/resend/", views.InvitationResendView.as_view(), name="invitation-resend"),
]
