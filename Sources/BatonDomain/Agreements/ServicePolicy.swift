import Foundation

/// The service desk's own policy from an agreements file: the customer-facing SLA, where
/// tickets go when no agreement takes them, and how impact × urgency becomes a priority.
///
/// Recorded as an event (stream `service-policy`) whenever it changes, so routing and SLA
/// clocks can always name the policy they used.
public struct ServicePolicySet: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "ServicePolicySet"
    /// The customer-facing SLA every ticket is measured against from creation.
    public var customerSLA: ServiceLevelTerms
    /// Where tickets go when no agreement can take them.
    public var defaultQueue: String
    /// Derives priority from impact × urgency.
    public var priorityMatrix: PriorityMatrix

    /// Creates the payload.
    public init(customerSLA: ServiceLevelTerms, defaultQueue: String, priorityMatrix: PriorityMatrix) {
        self.customerSLA = customerSLA
        self.defaultQueue = defaultQueue
        self.priorityMatrix = priorityMatrix
    }

    /// The policy part of an agreements file.
    public init(_ set: AgreementSet) {
        self.init(customerSLA: set.customerSLA, defaultQueue: set.defaultQueue, priorityMatrix: set.priorityMatrix)
    }
}

extension AgreementSet {
    /// A set made of a recorded policy and the recorded agreement versions.
    public init(policy: ServicePolicySet, agreements: [Agreement]) {
        self.init(customerSLA: policy.customerSLA, defaultQueue: policy.defaultQueue, priorityMatrix: policy.priorityMatrix, agreements: agreements)
    }
}
