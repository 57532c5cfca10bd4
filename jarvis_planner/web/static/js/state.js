// The page's state: the open goal (its state as the API sends it, with the `view` the server
// computed) and what the person is doing with it.

export const view = {
  id: null, state: null, goalText: "", source: null, info: null,
  editing: null, draft: null, editProblems: null, editError: "",
  rejecting: false, rejectReason: "", until: "", retrying: null, actionError: "", busy: false, gone: "",
  lastKey: "", reconnectTimer: null, stageSeen: "", stageSince: 0,
};

export function finished(st) { return Boolean(st && st.view && st.view.finished); }
