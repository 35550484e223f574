from django.urls import path

from switchboard.accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    # Not <int:pk>: a non-numeric id must still get the API's JSON 404 (the mixin answers it), not fall through.
    path("members/<str:pk>/", views.MemberDetailView.as_view(), name="member-detail"),
]
