/**
 * What the API can do today, in one place. The web app hides what has no API yet; each switch names
 * the issue whose routes turn it on, and where its piece of the app goes.
 */
export const capabilities = {
  /** return_date on price, search and trackers (issue 15): the trip-type choice of SearchForm. */
  roundTrip: false,
  /** cabin on price, search and trackers (issue 15): a select in SearchForm and TrackPanel. */
  cabin: false,
  /** max_stops on trackers (issue 15); the search's own nonstop filter works today. */
  trackerStops: false,
  /** flex_days on trackers (issue 15, item 2): a field of TrackPanel; the tracker page's window table. */
  flexibleDays: true,
  /** GET /flights/calendar (issue 15): the 14-day strip above the search results. */
  fareCalendar: false,
  /** /auth/verify-email and resend (issue 14): a /verify-email page (sign-up already handles a 202). */
  emailVerification: true,
  /** /auth/password-reset and /confirm (issue 14): "Forgot your password?" on the sign-in page. */
  passwordReset: true,
  /** PATCH /users/me {email_alerts} and webhooks (issue 14): a /settings page. */
  notificationSettings: true,
  /** The refresh token as an HttpOnly cookie on the /auth routes (issue 16, round two): a reload keeps
   *  you signed in (session.ts). */
  cookieSession: true,
} as const;

// The price insight (issue 15) needs no switch: the search, the tracker page and the chart show it
// whenever an answer carries `insight`.
